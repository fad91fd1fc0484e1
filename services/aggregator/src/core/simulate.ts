import type { RawScrape } from '@heapstream/contracts';

/*
 * Deterministic simulated scrapes (no randomness, no clock) for the integration test
 * and the benchmark: `nodes` nodes with `podsPerNode` pods of two containers each.
 */

export interface SimOptions {
  cluster?: string;
  nodes: number;
  podsPerNode: number;
  /** Event time of cycle 0 (epoch ms). */
  t0: number;
  intervalMs: number;
}

/** Node `n`'s scrape of cycle `cycle`: counters grow by a per-entity amount each cycle. */
export function simulatedScrape(o: SimOptions, n: number, cycle: number): RawScrape {
  const at = o.t0 + cycle * o.intervalMs + (n % 7) * 113;
  const node = `node-${String(n).padStart(5, '0')}`;
  const grow = (seed: number, perCycle: number) => Math.round((cycle + 1) * perCycle * (1 + (seed % 5) / 10));
  const pods: RawScrape['pods'] = [];
  for (let p = 0; p < o.podsPerNode; p++) {
    const seed = n * 31 + p;
    const start = o.t0 - 3_600_000 - p * 1000;
    const time = at - (p % 3) * 1000;
    const containers = ['app', 'sidecar'].map((name, i) => ({
      name,
      startTime: start,
      cpu: { time, usageCoreNanoSeconds: grow(seed + i, 150e6 * (i + 1)), usageNanoCores: 10_000_000 },
      memory: { time, usageBytes: 50e6 + ((seed * 7 + cycle) % 13) * 1e6, workingSetBytes: 40e6 + ((seed + cycle) % 11) * 1e6, rssBytes: 30e6, pageFaults: grow(seed, 1000), majorPageFaults: grow(seed, 3) },
      rootfs: { time, usedBytes: 1e6 + seed, capacityBytes: 100e9, availableBytes: 50e9 },
    }));
    pods.push({
      namespace: `ns-${p % 5}`,
      name: `pod-${n}-${p}`,
      uid: `uid-${n}-${p}`,
      startTime: start,
      containers,
      cpu: { time, usageCoreNanoSeconds: grow(seed, 460e6) },
      memory: { time, usageBytes: 100e6 + ((seed + cycle) % 17) * 1e6, workingSetBytes: 80e6 + ((seed * 3 + cycle) % 19) * 1e6 },
      network: { time, name: 'eth0', rxBytes: grow(seed, 1e6), txBytes: grow(seed, 5e5), rxErrors: 0, txErrors: grow(seed, 1) },
      ephemeralStorage: { time, usedBytes: 2e6 + seed },
    });
  }
  return {
    schemaVersion: '1.0',
    cluster: o.cluster ?? 'sim',
    node,
    scrape: { startedAt: at - 50, finishedAt: at },
    nodeStats: {
      startTime: o.t0 - 86_400_000,
      cpu: { time: at, usageCoreNanoSeconds: grow(n, 30e9) },
      memory: { time: at, usageBytes: 8e9 + ((n + cycle) % 23) * 1e7, workingSetBytes: 6e9 + ((n * 5 + cycle) % 29) * 1e7, pageFaults: grow(n, 5e4), majorPageFaults: grow(n, 10) },
      network: { time: at, name: 'eth0', rxBytes: grow(n, 3e7), txBytes: grow(n, 2e7), rxErrors: 0, txErrors: 0 },
      fs: { time: at, usedBytes: 20e9 + n, capacityBytes: 100e9, availableBytes: 80e9 - n },
      systemContainers: [{ name: 'kubelet', startTime: o.t0 - 86_400_000, cpu: { time: at, usageCoreNanoSeconds: grow(n, 1e9) }, memory: { time: at, workingSetBytes: 1e8 } }],
    },
    pods,
  };
}
