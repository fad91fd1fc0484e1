import { describe, expect, it } from 'vitest';
import type { MetricPoint, RawScrape } from '@heapstream/contracts';
import { PartitionProcessor, type OutputRecord, type ProcessorSettings } from './processor.js';
import { decodeState, encodeOwner, encodePartition, metaKey, ownerKey } from './state.js';
import { fixtureScrape, testSettings, tinyScrape } from './testing.js';

const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000); // an hour boundary
const natives = (records: OutputRecord[]) => records.filter((r) => r.stream === 'metrics' && r.key !== 'cluster' && !r.key.includes('/')).flatMap((r) => r.batch.points);
const rates = (points: MetricPoint[], metric = 'cpu/usage_rate') => points.filter((p) => p.metric === metric);
const find = (points: MetricPoint[], metric: string, entityType: string) => points.find((p) => p.metric === metric && p.entityType === entityType);

describe('rates on the real consecutive scrapes', () => {
  it('gives exactly 1000 millicores for every cpu series, and nothing on the first scrape', () => {
    const p = new PartitionProcessor(testSettings());
    const first = fixtureScrape('otel-stats-summary.json');
    const second = fixtureScrape('otel-stats-summary-second-scrape.json');
    const r1 = p.ingest(first, first.scrape.finishedAt);
    expect(rates(natives(r1.records))).toEqual([]);
    expect(r1.counts['rate:first-sample']).toBeGreaterThan(0);

    const cpu = rates(natives(p.ingest(second, second.scrape.finishedAt).records));
    // node + 3 system containers + 9 pods + 9 containers
    expect(cpu.length).toBe(22);
    for (const r of cpu) expect(r.value).toBeCloseTo(1000, 9);
    // Each at its own sample time, not the scrape time.
    const scheduler = cpu.find((r) => r.tags.container_name === 'kube-scheduler')!;
    expect(scheduler.timestamp).toBe(Date.parse('2020-04-20T22:52:28Z'));
  });
});

describe('rates on hand-computed cases', () => {
  const run = (scrapes: ReturnType<typeof tinyScrape>[], settings = testSettings()) => {
    const p = new PartitionProcessor(settings);
    return scrapes.map((s) => p.ingest(s, s.scrape.finishedAt));
  };
  const nodeRate = (r: { records: OutputRecord[] }) => find(natives(r.records), 'cpu/usage_rate', 'node')?.value;
  const containerRate = (r: { records: OutputRecord[] }) => find(natives(r.records), 'cpu/usage_rate', 'pod_container')?.value;

  it('divides the delta by the samples own interval: 3e9 ns over 10 s is 300 millicores', () => {
    const [, r] = run([tinyScrape({ at: T0, cpuNs: 1e9 }), tinyScrape({ at: T0 + 10_000, cpuNs: 4e9 })]);
    expect(nodeRate(r!)).toBe(300);
  });

  it('uses each sample time, not the scrape time', () => {
    const [, r] = run([
      tinyScrape({ at: T0 + 15_000, cpuNs: 1e9, containerTime: T0 + 11_000 }),
      tinyScrape({ at: T0 + 30_000, cpuNs: 2e9, containerTime: T0 + 26_000, containerCpuNs: 1.5e9 }),
    ]);
    expect(containerRate(r!)).toBeCloseTo(500 / 15, 12); // 0.5e9 ns over 15 s
  });

  it('survives missed cycles: the previous sample is kept until the gap limit', () => {
    const [, r] = run([tinyScrape({ at: T0, cpuNs: 0 }), tinyScrape({ at: T0 + 45_000, cpuNs: 9e9 })]);
    expect(nodeRate(r!)).toBe(200);
  });

  it('emits nothing across a gap longer than the limit, then resumes', () => {
    const [, r2, r3] = run([tinyScrape({ at: T0, cpuNs: 0 }), tinyScrape({ at: T0 + 301_000, cpuNs: 1e9 }), tinyScrape({ at: T0 + 311_000, cpuNs: 2e9 })]);
    expect(nodeRate(r2!)).toBeUndefined();
    expect(r2!.counts['rate:gap-too-long']).toBeGreaterThan(0);
    expect(nodeRate(r3!)).toBe(100);
  });

  it('emits nothing when the container restarted (startTime changed), then resumes', () => {
    const [, r2, r3] = run([
      tinyScrape({ at: T0, cpuNs: 5e9, containerCpuNs: 5e9 }),
      tinyScrape({ at: T0 + 10_000, cpuNs: 6e9, containerCpuNs: 8e9, containerStart: T0 + 5_000 }),
      tinyScrape({ at: T0 + 20_000, cpuNs: 7e9, containerCpuNs: 9e9, containerStart: T0 + 5_000 }),
    ]);
    expect(containerRate(r2!)).toBeUndefined();
    expect(r2!.counts['rate:restarted']).toBeGreaterThan(0);
    expect(containerRate(r3!)).toBe(100);
  });

  it('emits nothing on a counter reset (value went down, same start)', () => {
    const [, r2] = run([tinyScrape({ at: T0, cpuNs: 5e9 }), tinyScrape({ at: T0 + 10_000, cpuNs: 1e9 })]);
    expect(nodeRate(r2!)).toBeUndefined();
    expect(r2!.counts['rate:counter-reset']).toBeGreaterThan(0);
  });

  it('dead-letters a start time going backwards without poisoning the state', () => {
    const [, r2, r3] = run([
      tinyScrape({ at: T0, cpuNs: 1e9, containerStart: 5_000 }),
      tinyScrape({ at: T0 + 10_000, cpuNs: 2e9, containerCpuNs: 99e9, containerStart: 1_000 }),
      tinyScrape({ at: T0 + 20_000, cpuNs: 3e9, containerStart: 5_000 }),
    ]);
    expect(r2!.deadLetter?.reason).toBe('start-time-backwards');
    expect(r2!.counts['start-time-backwards']).toBeGreaterThan(0);
    expect(containerRate(r2!)).toBeUndefined();
    expect(nodeRate(r2!)).toBe(100); // the rest of the scrape is used
    expect(containerRate(r3!)).toBe(100); // against the last good sample, 20 s earlier
  });

  it('rejects impossible input: a scrape from the future, a sample before its start', () => {
    const p = new PartitionProcessor(testSettings());
    const future = tinyScrape({ at: T0 + 3_600_000, cpuNs: 1 });
    const r = p.ingest(future, T0);
    expect(r.deadLetter?.reason).toBe('impossible:scrape-in-future');
    expect(r.records).toEqual([]);
    expect(p.watermark).toBe(Number.NEGATIVE_INFINITY); // did not move event time
    const r2 = p.ingest(tinyScrape({ at: T0, cpuNs: 1, containerStart: T0 + 1_000 }), T0);
    expect(r2.counts['impossible:sample-before-start']).toBe(2); // pod and container cpu/usage (uptime is not emitted before start)
  });
});

describe('windows', () => {
  const settings = testSettings({ windows: [{ resolution: '1m', sizeMs: 60_000 }], allowedLatenessMs: 20_000 });
  const memWindows = (records: OutputRecord[]) =>
    records.filter((r) => r.stream === '1m').flatMap((r) => r.batch.points).filter((p) => p.metric === 'memory/working_set' && p.entityType === 'node');

  it('summarises min, max, sum, count, last and closes by event time after the lateness', () => {
    const p = new PartitionProcessor(settings);
    const out: OutputRecord[] = [];
    const feed = (at: number, memory: number, receivedAt = at) => {
      const r = p.ingest(tinyScrape({ at, cpuNs: at, memory }), receivedAt);
      out.push(...r.records);
      return r;
    };
    feed(T0 + 10_000, 40);
    feed(T0 + 50_000, 10);
    feed(T0 + 30_000, 70); // out of order, same window: counts, but is not the last
    feed(T0 + 75_000, 5); // next window; watermark 75 s < 60 + 20: still open
    expect(memWindows(out)).toEqual([]);
    feed(T0 + 79_000, 30, T0 + 79_000);
    const late = feed(T0 + 59_000, 20); // late but inside the lateness: counted in the window
    expect(late.counts['late:dropped-from-1m']).toBeUndefined();
    feed(T0 + 80_000, 1); // watermark reaches 60 + 20: the first window closes
    const [w] = memWindows(out);
    expect(w).toMatchObject({ timestamp: T0, value: 140 / 4, window: { start: T0, end: T0 + 60_000, min: 10, max: 70, sum: 140, count: 4, last: 20 } });
    const tooLate = feed(T0 + 58_000, 1000);
    expect(tooLate.counts['late:dropped-from-1m']).toBeGreaterThan(0);
    feed(T0 + 150_000, 2);
    const windows = memWindows(out);
    expect(windows.map((x) => x.window!.start)).toEqual([T0, T0 + 60_000]);
    expect(windows[1]!.window).toMatchObject({ min: 1, max: 30, count: 3, last: 1 });
  });
});

describe('repeated samples', () => {
  it('fold a sample the kubelet repeats (its time unchanged) once, and never count it as late', () => {
    const p = new PartitionProcessor(testSettings({ windows: [{ resolution: '1m', sizeMs: 60_000 }, { resolution: '1h', sizeMs: 3_600_000 }], allowedLatenessMs: 20_000 }));
    const out: OutputRecord[] = [];
    const stale = (at: number, memory: number, memoryAt: number) => {
      const s = tinyScrape({ at, cpuNs: at, memory });
      s.nodeStats.memory!.time = memoryAt;
      const r = p.ingest(s, at);
      out.push(...r.records);
      return r;
    };
    stale(T0 + 10_000, 40, T0 + 10_000);
    stale(T0 + 25_000, 40, T0 + 10_000); // the same sample again
    stale(T0 + 40_000, 50, T0 + 40_000);
    const late = [stale(T0 + 90_000, 50, T0 + 40_000), stale(T0 + 105_000, 50, T0 + 40_000)]; // minute 0 closed, sample still repeated
    for (const r of late) expect(r.counts['late:dropped-from-1m']).toBeUndefined();
    const [w] = out.filter((r) => r.stream === '1m').flatMap((r) => r.batch.points).filter((x) => x.metric === 'memory/working_set' && x.entityType === 'node');
    expect(w!.window).toMatchObject({ start: T0, count: 2, sum: 90, last: 50 });
  });
});

describe('rollups', () => {
  it('sums nodes into the cluster and pods into namespaces per cycle, with members', () => {
    const p = new PartitionProcessor(testSettings({ rollupCycleMs: 15_000, allowedLatenessMs: 5_000 }));
    const out: OutputRecord[] = [];
    const feed = (s: ReturnType<typeof tinyScrape>) => out.push(...p.ingest(s, s.scrape.finishedAt).records);
    feed(tinyScrape({ node: 'a', pod: 'pa', at: T0 + 1_000, cpuNs: 0, memory: 100 }));
    feed(tinyScrape({ node: 'b', pod: 'pb', at: T0 + 2_000, cpuNs: 0, memory: 200 }));
    feed(tinyScrape({ node: 'a', pod: 'pa', at: T0 + 11_000, cpuNs: 1e9, memory: 150 })); // a again: its latest counts once
    feed(tinyScrape({ node: 'a', pod: 'pa', at: T0 + 16_000, cpuNs: 2e9, memory: 150 }));
    feed(tinyScrape({ node: 'b', pod: 'pb', at: T0 + 17_000, cpuNs: 1.5e9, memory: 250 }));
    feed(tinyScrape({ node: 'a', pod: 'pa', at: T0 + 36_000, cpuNs: 3e9, memory: 150 }));
    const cluster = out.filter((r) => r.stream === 'metrics' && r.key === 'cluster').map((r) => r.batch.points);
    expect(cluster).toHaveLength(2);
    expect(find(cluster[0]!, 'memory/working_set', 'cluster')).toMatchObject({ timestamp: T0, value: 350, members: 2 });
    expect(find(cluster[1]!, 'memory/working_set', 'cluster')).toMatchObject({ timestamp: T0 + 15_000, value: 400, members: 2 });
    // a: 1e9 ns over 5 s = 200 m; b: 1.5e9 over 15 s = 100 m
    expect(find(cluster[1]!, 'cpu/usage_rate', 'cluster')).toMatchObject({ value: 300, members: 2 });
    const ns = out.filter((r) => r.key === 'ns/default').map((r) => r.batch.points);
    expect(find(ns[1]!, 'cpu/usage_rate', 'ns')).toMatchObject({ value: 300, members: 2 });
    expect(find(ns[1]!, 'cpu/usage_rate', 'ns')!.tags).toEqual({ cluster_name: 'test', namespace_name: 'default' });
  });

  it("says which cycle each native batch belongs to: the node's by its scrape's finishedAt, the rollups' by their bucket", () => {
    const p = new PartitionProcessor(testSettings({ rollupCycleMs: 15_000, allowedLatenessMs: 5_000 }));
    const out = [1_000, 14_900, 16_000, 36_000].flatMap((dt) => p.ingest(tinyScrape({ at: T0 + dt, cpuNs: dt * 1e5 }), T0 + dt).records);
    const nodeCycles = out.filter((r) => r.stream === 'metrics' && r.key === 'n1').map((r) => r.batch.cycle);
    expect(nodeCycles).toEqual([T0, T0, T0 + 15_000, T0 + 30_000]);
    const cluster = out.filter((r) => r.stream === 'metrics' && r.key === 'cluster').map((r) => r.batch);
    expect(cluster.map((b) => b.cycle)).toEqual([T0, T0 + 15_000]);
    for (const b of cluster) for (const pt of b.points) expect(pt.timestamp).toBe(b.cycle);
    expect(out.filter((r) => r.stream !== 'metrics').every((r) => r.batch.cycle === undefined)).toBe(true);
  });

  it('tags partial sums with the shard when the raw topic has several partitions', () => {
    const p = new PartitionProcessor(testSettings({ shard: '3', allowedLatenessMs: 0 }));
    const out = [T0, T0 + 16_000].flatMap((at) => p.ingest(tinyScrape({ at, cpuNs: 0 }), at).records);
    const cluster = out.filter((r) => r.key === 'cluster').flatMap((r) => r.batch.points);
    expect(cluster[0]!.tags).toEqual({ cluster_name: 'test', shard: '3' });
  });
});

/** Ingests `input`, checkpointing after every record and restoring from the checkpoint at every `restoreEvery`-th: the outputs. */
function withRestores(settings: ProcessorSettings, input: RawScrape[], restoreAt: (i: number) => boolean): string[] {
  const got: string[] = [];
  let p = new PartitionProcessor(settings);
  const store = new Map<string, Buffer>();
  input.forEach((s, i) => {
    got.push(JSON.stringify(p.ingest(s, s.scrape.finishedAt).records));
    for (const owner of p.takeDirty()) {
      const st = p.ownerState(owner);
      if (st) store.set(ownerKey(0, owner), encodeOwner(st));
      else store.delete(ownerKey(0, owner));
    }
    store.set(metaKey(0), encodePartition(p.partitionState(), String(i + 1)));
    if (restoreAt(i)) {
      const decoded = decodeState(0, store);
      expect(decoded.invalid).toBe(0);
      expect(decoded.nextOffset).toBe(String(i + 1));
      p = new PartitionProcessor(settings);
      for (const o of decoded.owners) p.restoreOwner(o);
      p.restorePartition(decoded.partition!);
    }
  });
  return got;
}

describe('checkpoint and restore', () => {
  it('with pods coming and going (entity ids and window slots freed and reused), restores continue byte for byte', () => {
    const settings = testSettings({ windows: [{ resolution: '1m', sizeMs: 60_000 }, { resolution: '1h', sizeMs: 300_000 }], allowedLatenessMs: 5_000, maxRateGapMs: 40_000 });
    // Two nodes; each pod lives 6-9 scrapes, so series and entities keep dying and appearing.
    const input = Array.from({ length: 120 }, (_, i) =>
      tinyScrape({ node: `n${i % 2}`, pod: `p${Math.floor(i / (12 + (i % 2) * 6))}`, at: T0 + i * 5_000, cpuNs: i * 1e9, containerStart: 1_000 + Math.floor(i / 12), memory: 1000 + ((i * 37) % 101) }),
    );
    const straight = new PartitionProcessor(settings);
    const expected = input.map((s) => JSON.stringify(straight.ingest(s, s.scrape.finishedAt).records));
    expect(withRestores(settings, input, (i) => i % 5 === 2)).toEqual(expected);
    // The state stays bounded: n0 saw 10 pods (21 entities with their containers and the
    // node), but only those of the open 5-minute window (5-6 pods) are kept.
    expect(straight.nodes.get('n0')!.entities.size).toBeLessThanOrEqual(13);
    expect(expected.join('')).toContain('"window"');
  });

  it('counts a corrupt owner record as invalid and keeps the others', () => {
    const p = new PartitionProcessor(testSettings());
    p.ingest(tinyScrape({ at: T0, cpuNs: 1 }), T0);
    const good = encodeOwner(p.ownerState('node/n1')!);
    const records = new Map<string, Buffer>([
      [ownerKey(0, 'node/n1'), good],
      [ownerKey(0, 'node/cut'), good.subarray(0, good.length - 3)],
      [ownerKey(0, 'node/json'), Buffer.from('{"v":1,"owner":"node/x","windows":[]}')],
    ]);
    const decoded = decodeState(0, records);
    expect(decoded.owners.map((o) => o.owner)).toEqual(['node/n1']);
    expect(decoded.invalid).toBe(2);
  });

  it('a processor restored from its checkpoint continues byte for byte', () => {
    const settings = testSettings({ windows: [{ resolution: '1m', sizeMs: 60_000 }, { resolution: '1h', sizeMs: 600_000 }], rollupCycleMs: 15_000, allowedLatenessMs: 10_000 });
    const input = Array.from({ length: 80 }, (_, i) =>
      tinyScrape({ node: `n${i % 3}`, pod: `p${i % 3}`, at: T0 + i * 5_000 + (i % 3) * 700, cpuNs: i * 1e9 + (i % 7) * 1e8, memory: 1000 + ((i * 37) % 101) }),
    );
    const straight = new PartitionProcessor(settings);
    const expected = input.map((s) => JSON.stringify(straight.ingest(s, s.scrape.finishedAt).records));
    expect(withRestores(settings, input, (i) => i % 7 === 3)).toEqual(expected);
    expect(expected.join('').length).toBeGreaterThan(10_000);
  });
});
