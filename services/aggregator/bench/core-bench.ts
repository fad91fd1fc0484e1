/*
 * Benchmark (not a test): simulated scrapes of NODES nodes x PODS pods through the
 * aggregator core (rates, windows, rollups, checkpoint encoding of the changed state),
 * one core, no Kafka. Prints values/s, CPU-seconds per million values, and memory.
 *
 *   ./heapstream bench aggregator [nodes=5000] [pods=30] [cycles=6] [snapshotEvery=2] [instances=1]
 *
 * A state snapshot is encoded every `snapshotEvery` cycles (AGGREGATOR_SNAPSHOT_INTERVAL
 * 30 s at a 15 s scrape interval is 2); 1 is the cost of checkpointing every cycle.
 * With `instances` > 1 the run is one instance's share when that many split the raw
 * topic's partitions: every instances-th node.
 *
 * Input is generated, encoded and decoded one record at a time, as the service sees it;
 * only decoding (validation included) and processing are timed. Memory: peak RSS, and
 * the live heap and typed-array bytes after a full GC at the end (run with --expose-gc,
 * which the CLI passes) so the state's own size shows apart from garbage.
 */
import { rawScrapeCodec } from '@heapstream/contracts';
import { PartitionProcessor } from '../src/core/processor.js';
import { simulatedScrape } from '../src/core/simulate.js';
import { encodeOwner, encodePartition } from '../src/core/state.js';
import { testSettings } from '../src/core/testing.js';

const [nodes = 5000, pods = 30, cycles = 6, snapshotEvery = 2, instances = 1] = process.argv.slice(2).map(Number);
const sim = { nodes, podsPerNode: pods, t0: 1_800_000_000_000, intervalMs: 15_000 };
const proc = new PartitionProcessor(testSettings());
const mine = Array.from({ length: nodes }, (_, n) => n).filter((n) => n % instances === 0);
let values = 0;
let outPoints = 0;
let cpuUs = 0;
let wallMs = 0;

const timed = <T>(f: () => T): T => {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = f();
  const cpu = process.cpuUsage(cpu0);
  wallMs += performance.now() - t0;
  cpuUs += cpu.user + cpu.system;
  return result;
};

for (let c = 0; c < cycles; c++) {
  const wall0 = wallMs;
  for (const n of mine) {
    const bytes = rawScrapeCodec.encode(simulatedScrape(sim, n, c));
    const r = timed(() => {
      const decoded = rawScrapeCodec.decode(bytes);
      if (!decoded.ok) throw decoded.error;
      return proc.ingest(decoded.value, decoded.value.scrape.finishedAt + 1000);
    });
    values += r.records[0]!.batch.points.length;
    for (const rec of r.records) outPoints += rec.batch.points.length;
  }
  // Snapshot what changed since the last one, as the engine does.
  if ((c + 1) % snapshotEvery === 0) {
    timed(() => {
      for (const owner of proc.takeDirty()) {
        const s = proc.ownerState(owner);
        if (s) encodeOwner(s);
      }
      encodePartition(proc.partitionState(), '0');
    });
  }
  console.log(`cycle ${c}: ${mine.length} scrapes in ${(wallMs - wall0).toFixed(0)} ms`);
}

const gc = (globalThis as { gc?: () => void }).gc;
// Twice, a moment apart: typed arrays' memory is released by a sweeper after the first.
gc?.();
await new Promise((resolve) => setTimeout(resolve, 200));
gc?.();
const mem = process.memoryUsage();
const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
console.log(
  JSON.stringify({
    nodes,
    instances,
    nodesThisInstance: mine.length,
    podsPerNode: pods,
    cycles,
    snapshotEvery,
    nativeValues: values,
    outputPoints: outPoints,
    valuesPerSecond: Math.round(values / (wallMs / 1000)),
    valuesPerCpuSecond: Math.round(values / (cpuUs / 1e6)),
    cpuSecondsPerMillion: +(cpuUs / 1e6 / (values / 1e6)).toFixed(2),
    peakRssMiB: mib(process.resourceUsage().maxRSS * 1024),
    ...(gc ? { liveHeapMiB: mib(mem.heapUsed), typedArraysMiB: mib(mem.arrayBuffers) } : {}),
    nodeFlags: process.execArgv.filter((a) => a.startsWith('--max')),
  }),
);
