import { z } from 'zod';
import { epochMs, nonEmpty, uint } from './primitives.js';

/*
 * One node's kubelet /stats/summary scrape, normalized.
 *
 * It mirrors the kubelet Summary API (k8s.io/kubelet/pkg/apis/stats/v1alpha1) block by
 * block so that nothing a consumer might want is lost, with three differences:
 * times are epoch milliseconds, a field the kubelet did not send is omitted (never 0),
 * and blocks that carried nothing usable are dropped by the parser.
 * Every cumulative counter travels with its own sample `time` and the `startTime` of
 * its owner, so rates can be computed downstream without the scraper keeping state.
 */

const sampleTime = epochMs.describe('time the kubelet took this sample (epoch ms)');

export const cpuStatsSchema = z.object({
  time: sampleTime.optional(),
  usageNanoCores: uint.optional().describe('kubelet-computed rate, nanocores; a cross-check only'),
  usageCoreNanoSeconds: uint.optional().describe('cumulative CPU time, ns'),
});

export const memoryStatsSchema = z.object({
  time: sampleTime.optional(),
  availableBytes: uint.optional(),
  usageBytes: uint.optional(),
  workingSetBytes: uint.optional(),
  rssBytes: uint.optional(),
  pageFaults: uint.optional().describe('cumulative'),
  majorPageFaults: uint.optional().describe('cumulative'),
});

export const swapStatsSchema = z.object({
  time: sampleTime.optional(),
  swapAvailableBytes: uint.optional(),
  swapUsageBytes: uint.optional(),
});

const interfaceCounters = {
  rxBytes: uint.optional().describe('cumulative'),
  rxErrors: uint.optional().describe('cumulative'),
  txBytes: uint.optional().describe('cumulative'),
  txErrors: uint.optional().describe('cumulative'),
};

export const interfaceStatsSchema = z.object({ name: nonEmpty, ...interfaceCounters });

export const networkStatsSchema = z.object({
  time: sampleTime.optional(),
  name: nonEmpty.optional().describe('name of the default interface whose counters are inline'),
  ...interfaceCounters,
  interfaces: z.array(interfaceStatsSchema).optional(),
});

export const fsStatsSchema = z.object({
  time: sampleTime.optional(),
  availableBytes: uint.optional(),
  capacityBytes: uint.optional(),
  usedBytes: uint.optional(),
  inodesFree: uint.optional(),
  inodes: uint.optional(),
  inodesUsed: uint.optional(),
});

export const volumeStatsSchema = fsStatsSchema.extend({
  name: nonEmpty,
  pvcRef: z.object({ name: nonEmpty, namespace: nonEmpty }).optional(),
});

export const rlimitStatsSchema = z.object({
  time: sampleTime.optional(),
  maxpid: uint.optional(),
  curproc: uint.optional(),
});

export const acceleratorStatsSchema = z.object({
  make: z.string(),
  model: z.string(),
  id: z.string(),
  memoryTotal: uint.optional(),
  memoryUsed: uint.optional(),
  dutyCycle: uint.optional().describe('percent of time busy over the sample period'),
});

export const containerStatsSchema = z.object({
  name: nonEmpty,
  startTime: epochMs.optional(),
  cpu: cpuStatsSchema.optional(),
  memory: memoryStatsSchema.optional(),
  swap: swapStatsSchema.optional(),
  rootfs: fsStatsSchema.optional(),
  logs: fsStatsSchema.optional(),
  accelerators: z.array(acceleratorStatsSchema).optional(),
});

export const podStatsSchema = z.object({
  namespace: nonEmpty,
  name: nonEmpty,
  uid: nonEmpty.optional(),
  startTime: epochMs.optional(),
  containers: z.array(containerStatsSchema),
  cpu: cpuStatsSchema.optional(),
  memory: memoryStatsSchema.optional(),
  swap: swapStatsSchema.optional(),
  network: networkStatsSchema.optional(),
  volumes: z.array(volumeStatsSchema).optional(),
  ephemeralStorage: fsStatsSchema.optional(),
  processCount: uint.optional(),
});

export const nodeStatsSchema = z.object({
  startTime: epochMs.optional(),
  cpu: cpuStatsSchema.optional(),
  memory: memoryStatsSchema.optional(),
  swap: swapStatsSchema.optional(),
  network: networkStatsSchema.optional(),
  fs: fsStatsSchema.optional(),
  imageFs: fsStatsSchema.optional(),
  containerFs: fsStatsSchema.optional(),
  rlimit: rlimitStatsSchema.optional(),
  systemContainers: z.array(containerStatsSchema),
});

export const rawScrapeSchema = z
  .object({
    schemaVersion: z.string().regex(/^1\.\d+$/),
    cluster: nonEmpty,
    node: nonEmpty.describe('node name; also the record key'),
    scrape: z.object({
      startedAt: epochMs.describe('when the scraper sent the request'),
      finishedAt: epochMs.describe('when the whole body had been read'),
      endpoint: z.enum(['summary', 'resource']).optional().describe('kubelet endpoint; summary when omitted'),
    }),
    nodeStats: nodeStatsSchema,
    pods: z.array(podStatsSchema),
    parseIssues: uint.optional().describe('number of parts the parser skipped as invalid'),
  })
  .meta({ title: 'RawScrape', description: "One node's kubelet /stats/summary scrape, normalized" });

export type CpuStats = z.infer<typeof cpuStatsSchema>;
export type MemoryStats = z.infer<typeof memoryStatsSchema>;
export type SwapStats = z.infer<typeof swapStatsSchema>;
export type InterfaceStats = z.infer<typeof interfaceStatsSchema>;
export type NetworkStats = z.infer<typeof networkStatsSchema>;
export type FsStats = z.infer<typeof fsStatsSchema>;
export type VolumeStats = z.infer<typeof volumeStatsSchema>;
export type RlimitStats = z.infer<typeof rlimitStatsSchema>;
export type AcceleratorStats = z.infer<typeof acceleratorStatsSchema>;
export type ContainerStats = z.infer<typeof containerStatsSchema>;
export type PodStats = z.infer<typeof podStatsSchema>;
export type NodeStats = z.infer<typeof nodeStatsSchema>;
export type RawScrape = z.infer<typeof rawScrapeSchema>;
