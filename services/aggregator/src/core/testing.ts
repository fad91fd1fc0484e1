import { readFileSync } from 'node:fs';
import type { RawScrape } from '@heapstream/contracts';
import { parseSummary } from '@heapstream/metric-model';
import type { ProcessorSettings } from './processor.js';

/** Test helpers shared by unit tests, the integration test and the benchmark. */

export const testSettings = (over: Partial<ProcessorSettings> = {}): ProcessorSettings => ({
  producer: 'aggregator',
  maxRateGapMs: 5 * 60_000,
  windows: [
    { resolution: '1m', sizeMs: 60_000 },
    { resolution: '1h', sizeMs: 3_600_000 },
  ],
  allowedLatenessMs: 30_000,
  rollupCycleMs: 15_000,
  maxClockSkewMs: 10 * 60_000,
  maxCpuMillicores: 1_000_000,
  allowLabels: new Set(['app']),
  ...over,
});

export function fixtureScrape(file: string, cluster = 'test'): RawScrape {
  const body = readFileSync(new URL(`../../testdata/${file}`, import.meta.url), 'utf8');
  return parseSummary(body, { cluster }).scrape;
}

/** A minimal hand-built scrape of one node with one pod and one container. */
export function tinyScrape(o: {
  node?: string;
  at: number;
  cpuNs: number;
  containerStart?: number;
  containerCpuNs?: number;
  containerTime?: number;
  pod?: string;
  namespace?: string;
  memory?: number;
}): RawScrape {
  const start = o.containerStart ?? 1_000;
  return {
    schemaVersion: '1.0',
    cluster: 'test',
    node: o.node ?? 'n1',
    scrape: { startedAt: o.at - 100, finishedAt: o.at },
    nodeStats: { startTime: 0, cpu: { time: o.at, usageCoreNanoSeconds: o.cpuNs }, memory: { time: o.at, workingSetBytes: o.memory ?? 1000 }, systemContainers: [] },
    pods: [
      {
        namespace: o.namespace ?? 'default',
        name: o.pod ?? 'p1',
        startTime: start,
        cpu: { time: o.containerTime ?? o.at, usageCoreNanoSeconds: o.containerCpuNs ?? o.cpuNs },
        containers: [{ name: 'c1', startTime: start, cpu: { time: o.containerTime ?? o.at, usageCoreNanoSeconds: o.containerCpuNs ?? o.cpuNs } }],
      },
    ],
  };
}
