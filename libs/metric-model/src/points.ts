import type {
  ContainerStats,
  CpuStats,
  EntityType,
  FsStats,
  MemoryStats,
  MetricPoint,
  NetworkStats,
  RawScrape,
  SwapStats,
} from '@heapstream/contracts';
import { RESOURCE_IDS, TAGS, volumeResourceId } from './tags.js';

type Tags = Record<string, string>;

/**
 * Raw scrape -> the gauge and cumulative points it holds, with Heapster's names.
 * Each point carries its block's own sample time (the scrape's finishedAt only
 * when the kubelet sent none) and, if cumulative, its owner's startTime. Rates are
 * not here: they need two samples (see rate.ts). Absent fields make no point.
 */
export function scrapeToPoints(scrape: RawScrape): MetricPoint[] {
  const out: MetricPoint[] = [];
  const fallback = scrape.scrape.finishedAt;
  const emit = (entityType: EntityType, tags: Tags, metric: string, value: number | undefined, timestamp: number | undefined, startTime?: number) => {
    if (value === undefined) return;
    const p: MetricPoint = { metric, entityType, tags, timestamp: timestamp ?? fallback, value };
    if (startTime !== undefined) p.startTime = startTime;
    out.push(p);
  };

  const usage = (type: EntityType, tags: Tags, s: { startTime?: number; cpu?: CpuStats; memory?: MemoryStats; swap?: SwapStats }) => {
    const { startTime, cpu, memory, swap } = s;
    if (startTime !== undefined) {
      // Uptime is taken at the entity's own sample time, like every other value.
      const at = cpu?.time ?? memory?.time ?? fallback;
      if (at >= startTime) emit(type, tags, 'uptime', at - startTime, at, startTime);
    }
    if (cpu) {
      emit(type, tags, 'cpu/usage', cpu.usageCoreNanoSeconds, cpu.time, startTime);
      emit(type, tags, 'cpu/usage_nano_cores', cpu.usageNanoCores, cpu.time);
    }
    if (memory) {
      emit(type, tags, 'memory/usage', memory.usageBytes, memory.time);
      emit(type, tags, 'memory/working_set', memory.workingSetBytes, memory.time);
      emit(type, tags, 'memory/rss', memory.rssBytes, memory.time);
      emit(type, tags, 'memory/available', memory.availableBytes, memory.time);
      emit(type, tags, 'memory/page_faults', memory.pageFaults, memory.time, startTime);
      emit(type, tags, 'memory/major_page_faults', memory.majorPageFaults, memory.time, startTime);
    }
    if (swap) {
      emit(type, tags, 'swap/usage', swap.swapUsageBytes, swap.time);
      emit(type, tags, 'swap/available', swap.swapAvailableBytes, swap.time);
    }
  };

  const fs = (type: EntityType, tags: Tags, resourceId: string, f: FsStats | undefined, extra?: Tags) => {
    if (!f) return;
    const t = { ...tags, [TAGS.resourceId]: resourceId, ...extra };
    emit(type, t, 'filesystem/usage', f.usedBytes, f.time);
    emit(type, t, 'filesystem/limit', f.capacityBytes, f.time);
    emit(type, t, 'filesystem/available', f.availableBytes, f.time);
    emit(type, t, 'filesystem/inodes', f.inodes, f.time);
    emit(type, t, 'filesystem/inodes_free', f.inodesFree, f.time);
    emit(type, t, 'filesystem/inodes_used', f.inodesUsed, f.time);
  };

  const network = (type: EntityType, tags: Tags, n: NetworkStats | undefined, startTime: number | undefined) => {
    if (!n) return;
    emit(type, tags, 'network/rx', n.rxBytes, n.time, startTime);
    emit(type, tags, 'network/tx', n.txBytes, n.time, startTime);
    emit(type, tags, 'network/rx_errors', n.rxErrors, n.time, startTime);
    emit(type, tags, 'network/tx_errors', n.txErrors, n.time, startTime);
    for (const i of n.interfaces ?? []) {
      const t = { ...tags, [TAGS.interface]: i.name };
      emit(type, t, 'network/interface_rx', i.rxBytes, n.time, startTime);
      emit(type, t, 'network/interface_tx', i.txBytes, n.time, startTime);
      emit(type, t, 'network/interface_rx_errors', i.rxErrors, n.time, startTime);
      emit(type, t, 'network/interface_tx_errors', i.txErrors, n.time, startTime);
    }
  };

  const container = (type: 'sys_container' | 'pod_container', parent: Tags, c: ContainerStats) => {
    const tags = { ...parent, [TAGS.containerName]: c.name };
    usage(type, tags, c);
    fs(type, tags, RESOURCE_IDS.root, c.rootfs);
    fs(type, tags, RESOURCE_IDS.logs, c.logs);
    for (const a of c.accelerators ?? []) {
      const t = { ...tags, [TAGS.acceleratorId]: a.id, [TAGS.acceleratorMake]: a.make, [TAGS.acceleratorModel]: a.model };
      const at = c.cpu?.time ?? c.memory?.time;
      emit(type, t, 'accelerator/memory_total', a.memoryTotal, at);
      emit(type, t, 'accelerator/memory_used', a.memoryUsed, at);
      emit(type, t, 'accelerator/duty_cycle', a.dutyCycle, at);
    }
  };

  const base: Tags = { [TAGS.clusterName]: scrape.cluster, [TAGS.nodename]: scrape.node };
  const n = scrape.nodeStats;
  usage('node', base, n);
  network('node', base, n.network, n.startTime);
  fs('node', base, RESOURCE_IDS.root, n.fs);
  fs('node', base, RESOURCE_IDS.imageFs, n.imageFs);
  fs('node', base, RESOURCE_IDS.containerFs, n.containerFs);
  if (n.rlimit) {
    emit('node', base, 'process/count', n.rlimit.curproc, n.rlimit.time);
    emit('node', base, 'process/max', n.rlimit.maxpid, n.rlimit.time);
  }
  for (const c of n.systemContainers) container('sys_container', base, c);

  for (const pod of scrape.pods) {
    const tags: Tags = { ...base, [TAGS.namespaceName]: pod.namespace, [TAGS.podName]: pod.name };
    if (pod.uid) tags[TAGS.podId] = pod.uid;
    usage('pod', tags, pod);
    network('pod', tags, pod.network, pod.startTime);
    for (const v of pod.volumes ?? []) {
      fs('pod', tags, volumeResourceId(v.name), v, v.pvcRef ? { [TAGS.pvcName]: v.pvcRef.name } : undefined);
    }
    const eph = pod.ephemeralStorage;
    emit('pod', tags, 'ephemeral_storage/usage', eph?.usedBytes, eph?.time);
    emit('pod', tags, 'ephemeral_storage/available', eph?.availableBytes, eph?.time);
    emit('pod', tags, 'ephemeral_storage/capacity', eph?.capacityBytes, eph?.time);
    emit('pod', tags, 'ephemeral_storage/inodes', eph?.inodes, eph?.time);
    emit('pod', tags, 'ephemeral_storage/inodes_free', eph?.inodesFree, eph?.time);
    emit('pod', tags, 'ephemeral_storage/inodes_used', eph?.inodesUsed, eph?.time);
    emit('pod', tags, 'process/count', pod.processCount, pod.cpu?.time ?? pod.memory?.time);
    for (const c of pod.containers) container('pod_container', tags, c);
  }
  return out;
}
