/*
 * Benchmark (not a test): simulated scrapes of NODES nodes x PODS pods through the
 * aggregator core (rates, windows, rollups, checkpoint encoding of dirty state), one
 * core, no Kafka. Prints values/s, CPU-seconds per million values and peak RSS.
 *
 *   ./heapstream bench aggregator [nodes=5000] [pods=30] [cycles=6] [snapshotEvery=2]
 * A state snapshot is encoded every `snapshotEvery` cycles (AGGREGATOR_SNAPSHOT_INTERVAL
 * 30 s at a 15 s scrape interval is 2); 1 is the cost of checkpointing every cycle.
 */
import { rawScrapeCodec } from '@heapstream/contracts';
import { PartitionProcessor } from '../src/core/processor.js';
import { simulatedScrape } from '../src/core/simulate.js';
import { encodeOwner, encodePartition } from '../src/core/state.js';
import { testSettings } from '../src/core/testing.js';

const [nodes = 5000, pods = 30, cycles = 6, snapshotEvery = 2] = process.argv.slice(2).map(Number);
const sim = { nodes, podsPerNode: pods, t0: 1_800_000_000_000, intervalMs: 15_000 };
const proc = new PartitionProcessor(testSettings());
let values = 0;
let outPoints = 0;
let peakRss = 0;
let cpuUs = 0;
let wallMs = 0;

for (let c = 0; c < cycles; c++) {
  // Input as the service sees it: encoded bytes, decoded and validated per record.
  const encoded = Array.from({ length: nodes }, (_, n) => rawScrapeCodec.encode(simulatedScrape(sim, n, c)));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const bytes of encoded) {
    const decoded = rawScrapeCodec.decode(bytes);
    if (!decoded.ok) throw decoded.error;
    const r = proc.ingest(decoded.value, decoded.value.scrape.finishedAt + 1000);
    values += r.records[0]!.batch.points.length;
    for (const rec of r.records) outPoints += rec.batch.points.length;
  }
  // Snapshot what changed since the last one, as the engine does.
  if ((c + 1) % snapshotEvery === 0) {
    for (const owner of proc.takeDirty()) {
      const s = proc.ownerState(owner);
      if (s) encodeOwner(s);
    }
    encodePartition(proc.partitionState(), '0');
  }
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  cpuUs += cpu.user + cpu.system;
  wallMs += ms;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  console.log(`cycle ${c}: ${nodes} scrapes in ${ms.toFixed(0)} ms`);
}
console.log(
  JSON.stringify({
    nodes,
    podsPerNode: pods,
    cycles,
    snapshotEvery,
    nativeValues: values,
    outputPoints: outPoints,
    valuesPerSecond: Math.round(values / (wallMs / 1000)),
    cpuSecondsPerMillion: +((cpuUs / 1e6) / (values / 1e6)).toFixed(2),
    peakRssMiB: Math.round(peakRss / 2 ** 20),
  }),
);
