import { afterAll, describe, expect, it } from 'vitest';
import { metricPointBatchCodec, rawScrapeCodec, TOPICS, type MetricPoint, type MetricPointBatch, type RawScrape } from '@heapstream/contracts';
import { scrapeToPoints } from '@heapstream/metric-model';
import { startLocalPipeline, type LocalPipeline } from '@heapstream/infra';
import { readCommitted, testEnv, testKafka, uniqueName, waitFor } from '@heapstream/testing';
import { forgetTagKeys, influxRows, pointKey, servedSamples } from './compare.js';

/*
 * The whole chain on a simulated cluster with churn, restarts and a slow node:
 * simulated kubelets -> scraper -> Kafka -> aggregator -> Kafka -> storage-writer -> InfluxDB,
 * and API events -> event-watcher -> Kafka -> InfluxDB, compared with the simulator's
 * ground truth. Then the same with every service SIGKILLed and restarted once mid-run.
 */

const env = testEnv();
const kafka = testKafka();
const INTERVAL_MS = 5_000;
const started: LocalPipeline[] = [];

afterAll(async () => {
  for (const p of started) await p.stop();
});

/** Every committed record of a topic, decoded (undecodable ones left out). */
async function readAll<T>(topic: string, decode: (b: Buffer) => T | undefined): Promise<{ key: string; value: T }[]> {
  return (await readCommitted(kafka, topic)).flatMap((m) => {
    const value = decode(m.value);
    return value === undefined ? [] : [{ key: m.key ?? '', value }];
  });
}

/** Raw points of this pipeline's cluster stored after `since` (proves the chain is flowing). */
async function storedSince(p: LocalPipeline, since: number): Promise<number> {
  const res = await fetch(`${env.INFLUX_URL}/query`, { method: 'POST', body: new URLSearchParams({ db: p.database, q: `SELECT count("value") FROM "raw"."memory/working_set" WHERE "cluster_name" = '${p.cluster}' AND "type" = 'node' AND time > ${since}ms` }) });
  const body = (await res.json()) as { results: { series?: { values: number[][] }[] }[] };
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
}

async function closedWindows(p: LocalPipeline): Promise<number> {
  const res = await fetch(`${env.INFLUX_URL}/query`, { method: 'POST', body: new URLSearchParams({ db: p.database, q: `SELECT count("value_mean") FROM "rollup_1m"."memory/working_set" WHERE "cluster_name" = '${p.cluster}' AND "type" = 'node'` }) });
  const body = (await res.json()) as { results: { series?: { values: number[][] }[] }[] };
  return body.results[0]?.series?.[0]?.values[0]?.[1] ?? 0;
}

/**
 * Whether the stored occurrences already reach past their first minute's settling point (the
 * comparison in step 7 needs one such minute). Under a loaded machine the event-watcher can
 * start well after the scraper, so windows alone do not say that events have run long enough.
 */
async function eventsSettledAMinute(p: LocalPipeline): Promise<boolean> {
  const res = await fetch(`${env.INFLUX_URL}/query`, { method: 'POST', body: new URLSearchParams({ db: p.database, q: `SELECT min("observed_at"), max("observed_at") FROM "raw"."events" WHERE "cluster_name" = '${p.cluster}'` }) });
  const body = (await res.json()) as { results: { series?: { values: number[][] }[] }[] };
  const [, first, last] = body.results[0]?.series?.[0]?.values[0] ?? [];
  return first !== undefined && last !== undefined && eventMinuteSettled(first - (first % 60_000), last);
}

/** A minute's event counters are final once occurrences are seen well past its end (window lateness 10 s, plus margin). */
const eventMinuteSettled = (minute: number, lastOccurrence: number) => minute + 60_000 + 10_000 + 30_000 < lastOccurrence;

const decodeRaw = (b: Buffer) => {
  const r = rawScrapeCodec.decode(b);
  return r.ok ? r.value : undefined;
};
const decodeBatch = (b: Buffer) => {
  const r = metricPointBatchCodec.decode(b);
  return r.ok ? r.value : undefined;
};

/** Node sample time of a raw scrape: its cpu block's own time. */
const sampleTime = (r: RawScrape) => r.nodeStats.cpu?.time ?? r.nodeStats.memory?.time ?? r.scrape.finishedAt;
/** Where the writer stores a scrape's native points: the start of its rollup cycle. */
const cycleOf = (r: RawScrape) => Math.floor(r.scrape.finishedAt / INTERVAL_MS) * INTERVAL_MS;

async function runPipeline(label: string): Promise<LocalPipeline> {
  const prefix = `${uniqueName(label)}.`;
  const pipeline = await startLocalPipeline({
    infra: env as unknown as Record<string, string>,
    prefix,
    cluster: prefix.slice(0, -1),
    database: prefix.slice(0, -1).replaceAll('-', '_'),
    basePort: 18_600 + Math.floor(Math.random() * 300),
    simArgs: [
      '--cleanup', '--record-summaries', '200', '--nodes', '3', '--pods-per-node', '3', '--containers-per-pod', '1-2', '--interval', `${INTERVAL_MS / 1000}s`,
      '--name-prefix', prefix.slice(0, 20).replace(/[^a-z0-9-]/g, '').replace(/-+$/, ''),
      '--address-octet', String(100 + Math.floor(Math.random() * 100)), '--kubelet-port', '0',
      '--churn', '120', '--restart-rate', '30', '--slow-fraction', '0.34', '--slow-latency', 'const:2s', '--events-per-second', '1',
    ],
    serviceEnv: {
      scraper: { SCRAPER_INTERVAL: `${INTERVAL_MS}ms`, SCRAPER_TIMEOUT: '4s', SCRAPER_JITTER: '300ms' },
      aggregator: { HEAPSTREAM_ROLLUP_CYCLE: `${INTERVAL_MS}ms`, HEAPSTREAM_WINDOW_LATENESS: '10s', HEAPSTREAM_ENRICH: 'false' },
      // Heapster's layout, as a drop-in user sets it: the checks below add up its per-node
      // series as Heapster's dashboards do. The default (wide) is covered point by point
      // in storage-writer.it.test.ts and by every dashboard query in dashboards.it.test.ts.
      'storage-writer': { HEAPSTREAM_STORAGE_SCHEMA: 'heapster', HEAPSTREAM_EVENT_MEASUREMENTS: 'both', HEAPSTREAM_FETCH_LINGER: '20ms' },
    },
  });
  started.push(pipeline);
  return pipeline;
}

async function rawOf(p: LocalPipeline, nodes: Set<string>): Promise<RawScrape[]> {
  return (await readAll(p.prefix + TOPICS.metricsRaw.name, decodeRaw)).map((m) => m.value).filter((r) => nodes.has(r.node));
}

async function ourNodes(p: LocalPipeline): Promise<Set<string>> {
  const { nodes } = (await (await fetch(`${p.simControlUrl}/truth/nodes`)).json()) as { nodes: { name: string }[] };
  return new Set(nodes.map((n) => n.name));
}

/**
 * Every point of every scrape that reached Kafka is in InfluxDB once, at its cycle start,
 * with the exact value (a node scraped twice in one cycle: its later scrape, as stored).
 */
async function expectRawPointsStored(p: LocalPipeline, raw: RawScrape[]): Promise<number> {
  const expected = new Map<string, number>();
  const byMetric = new Map<string, MetricPoint[]>();
  for (const r of raw) for (const pt of scrapeToPoints(r)) {
    expected.set(pointKey(pt.metric, pt.tags, pt.entityType, cycleOf(r)), pt.value);
    byMetric.set(pt.metric, [...(byMetric.get(pt.metric) ?? []), pt]);
  }
  forgetTagKeys();
  const missing: string[] = [];
  const wrong: string[] = [];
  const twice: string[] = [];
  for (const metric of byMetric.keys()) {
    const rows = await influxRows(env.INFLUX_URL, p.database, 'raw', metric, `"cluster_name" = '${p.cluster}'`);
    const seen = new Map<string, number>();
    for (const row of rows) {
      const key = pointKey(metric, row.tags, row.tags.type ?? '', row.time);
      seen.set(key, (seen.get(key) ?? 0) + 1);
      if (expected.has(key) && expected.get(key) !== row.fields.value) wrong.push(`${key}: stored ${row.fields.value}, scraped ${expected.get(key)}`);
    }
    for (const [key] of [...expected].filter(([k]) => k.startsWith(`${metric}|`))) {
      const n = seen.get(key) ?? 0;
      if (n === 0) missing.push(key);
      if (n > 1) twice.push(key);
    }
  }
  expect({ missing: missing.slice(0, 5), wrong: wrong.slice(0, 5), twice: twice.slice(0, 5) }).toEqual({ missing: [], wrong: [], twice: [] });
  return expected.size;
}

/** Freeze the truth: no more Events from the simulator, no more scrapes; the event-watcher keeps running to catch up. */
async function finishIntake(p: LocalPipeline): Promise<void> {
  expect((await fetch(`${p.simControlUrl}/events/pause`, { method: 'POST' })).ok).toBe(true);
  await p.group.stop('scraper');
}

async function compare(p: LocalPipeline, opts: { everyServedSampleScraped: boolean }): Promise<void> {
  const nodes = await ourNodes(p);
  const raw = await rawOf(p, nodes);
  expect(raw.length).toBeGreaterThan(nodes.size * 4);

  // 1. What the scraper published is exactly what each kubelet said for that sample.
  for (const r of raw) {
    const [truth] = (await servedSamples(p.simControlUrl!, r.node, p.cluster)).filter((s) => s.sampleMs === sampleTime(r));
    expect(truth, `simulator served ${r.node} @ ${sampleTime(r)}`).toBeDefined();
    const comparable = (pts: MetricPoint[]) => pts.map((pt) => pointKey(pt.metric, pt.tags, pt.entityType, pt.timestamp) + `=${pt.value}`).sort();
    expect(comparable(scrapeToPoints(r))).toEqual(comparable(truth!.points(r.scrape)));
  }
  if (opts.everyServedSampleScraped) {
    const cutoff = Math.max(...raw.map(sampleTime)) - 2 * INTERVAL_MS;
    for (const node of nodes) {
      const served = (await servedSamples(p.simControlUrl!, node, p.cluster)).map((s) => s.sampleMs).filter((t) => t < cutoff);
      const scraped = new Set(raw.filter((r) => r.node === node).map(sampleTime));
      expect(served.filter((t) => !scraped.has(t)), `samples of ${node} served but never published`).toEqual([]);
    }
  }

  // 2. Every raw point is in InfluxDB once, with the exact value (the writer has caught up when this holds).
  await waitFor('raw points in InfluxDB', async () => {
    try {
      await expectRawPointsStored(p, raw);
      return true;
    } catch {
      return false;
    }
  }, { timeoutMs: 90_000, intervalMs: 2_000 });
  await expectRawPointsStored(p, raw);

  // 3. Node CPU rates equal the hand-computed delta of consecutive samples.
  const rates = new Map((await influxRows(env.INFLUX_URL, p.database, 'raw', 'cpu/usage_rate', `"cluster_name" = '${p.cluster}' AND "type" = 'node'`)).map((r) => [`${r.tags.nodename}@${r.time}`, Number(r.fields.value)]));
  let checkedRates = 0;
  for (const node of nodes) {
    const samples = [...new Map(raw.filter((r) => r.node === node).map((r) => [sampleTime(r), r])).values()].sort((a, b) => sampleTime(a) - sampleTime(b));
    for (let i = 1; i < samples.length; i++) {
      const [a, b] = [samples[i - 1]!, samples[i]!];
      const [ca, cb] = [a.nodeStats.cpu!, b.nodeStats.cpu!];
      if (a.nodeStats.startTime !== b.nodeStats.startTime || cb.usageCoreNanoSeconds! < ca.usageCoreNanoSeconds!) continue;
      const expected = (cb.usageCoreNanoSeconds! - ca.usageCoreNanoSeconds!) / ((cb.time! - ca.time!) * 1_000);
      const stored = rates.get(`${node}@${cycleOf(b)}`);
      expect(stored, `cpu/usage_rate of ${node} at ${cb.time}`).toBeDefined();
      expect(Math.abs(stored! - expected)).toBeLessThanOrEqual(1e-9 * Math.max(1, expected));
      checkedRates++;
    }
  }
  expect(checkedRates).toBeGreaterThan(nodes.size * 2);

  // 4. Cluster totals are the sums of the nodes' latest rates in each cycle, with members; stored as such.
  const batches = await readAll(p.prefix + TOPICS.metrics.name, decodeBatch);
  const cycles = new Map<number, Map<string, number>>();
  const clusterPoints = new Map<number, MetricPoint>();
  for (const { key, value } of batches as { key: string; value: MetricPointBatch }[]) {
    for (const pt of value.points) {
      if (pt.metric !== 'cpu/usage_rate') continue;
      if (pt.entityType === 'node' && nodes.has(key)) {
        const cycle = value.cycle!;
        const m = cycles.get(cycle) ?? new Map<string, number>();
        m.set(key, pt.value);
        cycles.set(cycle, m);
      }
      if (pt.entityType === 'cluster') clusterPoints.set(pt.timestamp, pt);
    }
  }
  const storedClusters = new Map((await influxRows(env.INFLUX_URL, p.database, 'raw', 'cpu/usage_rate', `"cluster_name" = '${p.cluster}' AND "type" = 'cluster'`)).map((r) => [r.time, r.fields]));
  // Heapster's panels add up the node series per bucket: every node of a cycle is stored at its start.
  const storedNodeSums = new Map<number, number>();
  for (const r of await influxRows(env.INFLUX_URL, p.database, 'raw', 'cpu/usage_rate', `"cluster_name" = '${p.cluster}' AND "type" = 'node'`)) {
    storedNodeSums.set(r.time, (storedNodeSums.get(r.time) ?? 0) + Number(r.fields.value));
  }
  let checkedCycles = 0;
  for (const [cycle, members] of cycles) {
    const total = clusterPoints.get(cycle);
    if (!total) continue; // the last, still open cycle
    expect(total.members).toBe(members.size);
    expect(Math.abs(total.value - [...members.values()].reduce((a, b) => a + b, 0))).toBeLessThan(1e-6);
    expect(storedClusters.get(cycle)).toMatchObject({ value: total.value, value_members: members.size });
    expect(Math.abs(storedNodeSums.get(cycle)! - total.value)).toBeLessThan(1e-6);
    checkedCycles++;
  }
  expect(checkedCycles).toBeGreaterThan(3);

  // 5. Closed 1m windows store the min, max and mean of the samples in them (by sample time; a repeated sample once).
  const windows = await influxRows(env.INFLUX_URL, p.database, 'rollup_1m', 'memory/working_set', `"cluster_name" = '${p.cluster}' AND "type" = 'node'`);
  const samples = new Map<string, { node: string; time: number; value: number }>();
  for (const r of raw) for (const pt of scrapeToPoints(r)) {
    if (pt.metric === 'memory/working_set' && pt.entityType === 'node') samples.set(`${r.node}@${pt.timestamp}`, { node: r.node, time: pt.timestamp, value: pt.value });
  }
  expect(windows.length).toBeGreaterThan(0);
  for (const w of windows) {
    const values = [...samples.values()].filter((x) => x.node === w.tags.nodename && x.time >= w.time && x.time < w.time + 60_000).map((x) => x.value);
    expect({ min: w.fields.value_min, max: w.fields.value_max }).toEqual({ min: Math.min(...values), max: Math.max(...values) });
    expect(Number(w.fields.value_mean)).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 6);
  }

  // 6. Every event occurrence the simulator wrote is stored once.
  const { events: records } = (await (await fetch(`${p.simControlUrl}/truth/events`)).json()) as { events: { namespace: string; name: string; reason: string; regarding: { name: string }; count: number }[] };
  const expectedEvents = new Map<string, number>();
  const maxCount = new Map<string, { key: string; count: number }>();
  for (const e of records) {
    const id = `${e.namespace}/${e.name}`;
    const key = `${e.namespace}/${e.regarding.name}/${e.reason}`;
    if ((maxCount.get(id)?.count ?? 0) < e.count) maxCount.set(id, { key, count: e.count });
  }
  for (const { key, count } of maxCount.values()) expectedEvents.set(key, (expectedEvents.get(key) ?? 0) + count);
  expect(expectedEvents.size).toBeGreaterThan(0);
  const namespaces = [...new Set(records.map((e) => e.namespace))];
  let storedEvents = new Map<string, number>();
  await waitFor('every event occurrence in InfluxDB', async () => {
    forgetTagKeys();
    const rows = await influxRows(env.INFLUX_URL, p.database, 'raw', 'events', namespaces.map((n) => `"namespace_name" = '${n}'`).join(' OR '));
    storedEvents = new Map();
    for (const r of rows) {
      const key = `${r.tags.namespace_name}/${r.tags.object_name}/${r.tags.reason}`;
      storedEvents.set(key, (storedEvents.get(key) ?? 0) + 1);
    }
    return [...expectedEvents].every(([k, n]) => storedEvents.get(k) === n);
  }, { timeoutMs: 60_000, intervalMs: 2_000 }).catch(() => undefined);
  expect(Object.fromEntries([...storedEvents].filter(([k]) => expectedEvents.has(k)))).toEqual(Object.fromEntries(expectedEvents));

  // 7. Closed 1m event counters (summed over the event topic's shards) equal the stored
  //    occurrences of their namespace, reason and minute of observation. Each shard closes a
  //    window when a later occurrence reaches it, so only windows well before the last are compared.
  const rawEvents = await influxRows(env.INFLUX_URL, p.database, 'raw', 'events', namespaces.map((n) => `"namespace_name" = '${n}'`).join(' OR '));
  const observed = rawEvents.map((r) => ({ ...r, time: Number(r.fields.observed_at) }));
  const lastOccurrence = Math.max(...observed.map((r) => r.time));
  let counted = new Map<string, number>();
  const occurrences = new Map<string, number>();
  for (const r of observed) {
    const key = `${r.tags.namespace_name}/${r.tags.reason}/${r.time - (r.time % 60_000)}`;
    occurrences.set(key, (occurrences.get(key) ?? 0) + 1);
  }
  const settled = (minute: number) => eventMinuteSettled(minute, lastOccurrence);
  await waitFor('event counters for every settled minute', async () => {
    forgetTagKeys();
    counted = new Map();
    const rows = await influxRows(env.INFLUX_URL, p.database, 'rollup_1m', 'event_occurrences', `"cluster_name" = '${p.cluster}' AND "type" = 'ns' AND (${namespaces.map((n) => `"namespace_name" = '${n}'`).join(' OR ')})`).catch(() => []);
    for (const r of rows.filter((w) => settled(w.time))) {
      const key = `${r.tags.namespace_name}/${r.tags.reason}/${r.time}`;
      counted.set(key, (counted.get(key) ?? 0) + Number(r.fields.value_sum));
    }
    return [...occurrences].every(([k, n]) => !settled(Number(k.split('/').at(-1))) || counted.get(k) === n);
  }, { timeoutMs: 60_000, intervalMs: 2_000 }).catch(() => undefined);
  const settledOccurrences = [...occurrences].filter(([k]) => settled(Number(k.split('/').at(-1))));
  expect(settledOccurrences.length).toBeGreaterThan(0);
  expect(Object.fromEntries(counted)).toEqual(Object.fromEntries(settledOccurrences));
}

describe('the whole pipeline end to end', () => {
  it('stores what the simulated kubelets and API events said: raw points, rates, rollups, windows, events', async () => {
    const p = await runPipeline('e2e');
    // Run until every node has two closed 1m windows stored.
    await waitFor('two closed 1m windows per node', async () => (await closedWindows(p)) >= 6, { timeoutMs: 300_000, intervalMs: 5_000, alive: () => p.group.isAlive('aggregator') });
    await waitFor('events stored past a settled minute', () => eventsSettledAMinute(p), { timeoutMs: 300_000, intervalMs: 5_000 });
    await finishIntake(p);
    await compare(p, { everyServedSampleScraped: true });
    await p.stop();
  }, 600_000);

  it('gives the same answers when every service is SIGKILLed and restarted once mid-run', async () => {
    const p = await runPipeline('e2k');
    // A fresh broker under a full parallel test run can take minutes to settle its groups.
    await waitFor('data flowing', async () => (await storedSince(p, 0)) >= 6, { timeoutMs: 300_000, intervalMs: 2_000 });
    for (const name of ['storage-writer', 'aggregator', 'event-watcher', 'scraper']) {
      const crashedAt = Date.now();
      await p.group.crash(name);
      await p.group.waitHealthy(name, 120_000);
      // Each node's newer samples reach InfluxDB again: the chain recovered from this crash.
      await waitFor(`flow after ${name} restarted`, async () => (await storedSince(p, crashedAt)) >= 6, { timeoutMs: 240_000, intervalMs: 2_000 });
    }
    await waitFor('a closed 1m window per node', async () => (await closedWindows(p)) >= 3, { timeoutMs: 300_000, intervalMs: 5_000 });
    await waitFor('events stored past a settled minute', () => eventsSettledAMinute(p), { timeoutMs: 300_000, intervalMs: 5_000 });
    await finishIntake(p);
    await compare(p, { everyServedSampleScraped: false });
    await p.stop();
  }, 2_400_000);
});
