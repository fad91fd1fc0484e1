import { isDeepStrictEqual } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { deadLetterCodec, metricPointBatchCodec, TOPICS, type DeadLetter } from '@heapstream/contracts';
import { consumerLag } from '@heapstream/kafka';
import type { RunningService } from '@heapstream/service-runtime';
import { readTopic, testEnv, testKafka, waitFor } from '@heapstream/testing';
import {
  diff,
  dropDatabase,
  expectedEventPoints,
  expectedMetricPoints,
  influxQl,
  produceBatches,
  produceEvents,
  produceRaw,
  readFlux,
  readInfluxQl,
  recentTimes,
  simulatedBatches,
  simulatedEvents,
  startWriter,
  writerSetup,
  type PointSet,
} from './testing/it-support.js';

const kafka = testKafka('storage-writer-it');
const running: RunningService[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.shutdown()));
  await Promise.all(databases.splice(0).map(dropDatabase));
});
const databases: string[] = [];
const setupFor = (overrides: Record<string, string> = {}) => {
  const s = writerSetup(overrides);
  databases.push(s.db);
  return s;
};

async function until(what: string, expected: PointSet, read: () => Promise<PointSet>, timeoutMs = 60_000): Promise<PointSet> {
  let last: PointSet = new Map();
  await waitFor(what, async () => (last = await read()).size >= expected.size, { timeoutMs, intervalMs: 300 }).catch(() => undefined);
  return last;
}

describe.each(['heapster', 'wide'] as const)('storage-writer, %s schema, real Kafka and InfluxDB 1.8', (schema) => {
  it('writes metrics, 1m/1h rollups and events; each point reads back with its exact value, tags and time by InfluxQL and Flux', async () => {
    const setup = setupFor({ HEAPSTREAM_STORAGE_SCHEMA: schema, HEAPSTREAM_EVENT_MEASUREMENTS: 'both' });
    running.push(await startWriter(setup.env));
    const { prefix, db } = setup;
    const times = recentTimes(3);
    const native = simulatedBatches({ cluster: 'test-cluster', nodes: 3, podsPerNode: 4, times });
    const m1 = simulatedBatches({ cluster: 'test-cluster', nodes: 2, podsPerNode: 2, times: times.slice(0, 1), resolution: '1m' });
    const h1 = simulatedBatches({ cluster: 'test-cluster', nodes: 2, podsPerNode: 2, times: times.slice(0, 1), resolution: '1h' });
    const events = simulatedEvents(12, times[0]!);
    await produceBatches(kafka, prefix + TOPICS.metrics.name, native);
    await produceBatches(kafka, prefix + TOPICS.rollup1m.name, m1);
    await produceBatches(kafka, prefix + TOPICS.rollup1h.name, h1);
    await produceEvents(kafka, prefix + TOPICS.events.name, events);

    const expectedRaw = expectedMetricPoints(native, schema);
    const expectedEvents = expectedEventPoints(events, 'test-cluster');
    const expected1m = expectedMetricPoints(m1, schema);
    const expected1h = expectedMetricPoints(h1, schema);
    const rawSize = expectedRaw.size + expectedEvents.size + events.length; // + log/events `value`
    await waitFor('raw points', async () => (await readInfluxQl(db, 'raw')).size >= rawSize, { timeoutMs: 60_000, intervalMs: 300 });

    const notEvents = (s: PointSet) => new Map([...s].filter(([k]) => !k.startsWith('events|') && !k.startsWith('log/events|')));
    const onlyEvents = (s: PointSet) => new Map([...s].filter(([k]) => k.startsWith('events|')));
    for (const read of [readInfluxQl, readFlux]) {
      const raw = await read(db, 'raw');
      expect(diff(expectedRaw, notEvents(raw))).toEqual({ missing: [], wrong: [], extra: [] });
      expect(diff(expectedEvents, onlyEvents(raw))).toEqual({ missing: [], wrong: [], extra: [] });
      expect(diff(expected1m, await until('1m', expected1m, () => read(db, 'rollup_1m')))).toEqual({ missing: [], wrong: [], extra: [] });
      expect(diff(expected1h, await until('1h', expected1h, () => read(db, 'rollup_1h')))).toEqual({ missing: [], wrong: [], extra: [] });
    }

    // Heapster's log/events: the core/v1 Event as JSON, tagged with the pod.
    const log = [...(await readInfluxQl(db, 'raw', 'log/events'))];
    expect(log).toHaveLength(events.length);
    const one = log.find(([k]) => k.includes('pod_name=pod-1'))!;
    expect(JSON.parse(one[1] as string)).toMatchObject({ involvedObject: { kind: 'Pod', name: 'pod-1' }, reason: 'Pulled', source: { component: 'kubelet' } });

    // Field types never flip: integer metrics are integers, rates floats, windows' counts integers.
    const fieldTypes = new Map<string, string>();
    for (const s of await influxQl('SHOW FIELD KEYS', db)) for (const [f, t] of s.values ?? []) fieldTypes.set(`${s.name}.${f}`, t as string);
    for (const s of await influxQl('SHOW FIELD KEYS FROM "rollup_1m"./.*/', db)) for (const [f, t] of s.values ?? []) fieldTypes.set(`1m:${s.name}.${f}`, t as string);
    if (schema === 'heapster') {
      expect(fieldTypes.get('memory/usage.value')).toBe('integer');
      expect(fieldTypes.get('cpu/usage_rate.value')).toBe('float');
      expect(fieldTypes.get('events.count')).toBe('integer');
      expect(fieldTypes.get('1m:memory/working_set.value_max')).toBe('integer');
      expect(fieldTypes.get('1m:memory/working_set.value_min')).toBe('integer');
      expect(fieldTypes.get('1m:memory/working_set.value_mean')).toBe('float');
    } else {
      expect(fieldTypes.get('memory.usage')).toBe('integer');
      expect(fieldTypes.get('cpu.usage_rate')).toBe('float');
      expect(fieldTypes.get('1m:memory.working_set_min')).toBe('integer');
      expect(fieldTypes.get('1m:memory.working_set_max')).toBe('integer');
      expect(fieldTypes.get('1m:memory.working_set_mean')).toBe('float');
    }
    // High-cardinality keys stay out of the tags.
    const podTagKeys = (await influxQl(`SHOW TAG KEYS FROM "${schema === 'wide' ? 'memory' : 'memory/working_set'}"`, db)).flatMap((s) => (s.values ?? []).map((v) => v[0]));
    expect(podTagKeys).not.toContain('pod_id');
    expect(podTagKeys).not.toContain('labels');
    expect(podTagKeys).not.toContain('hostname');
    expect(podTagKeys).toContain('pod_name');
  });
});

describe('storage-writer, bad input and replays', () => {
  it('dead-letters poison records with the reason, writes the good lines of a partly bad record, and keeps the partition moving', async () => {
    // heapster: the conflict below is on its per-metric measurement.
    const setup = setupFor({ HEAPSTREAM_TOPIC_PARTITIONS: '1', HEAPSTREAM_STORAGE_SCHEMA: 'heapster' });
    running.push(await startWriter(setup.env));
    const { prefix, db } = setup;
    const topic = prefix + TOPICS.metrics.name;
    const [t0, t1] = recentTimes(2);
    // memory/rss already exists as a float in this shard: an integer write conflicts.
    await waitFor('database', async () => (await influxQl('SHOW RETENTION POLICIES', db)).length > 0, { timeoutMs: 20_000 });
    const pre = await fetch(`${testEnv().INFLUX_URL}/api/v2/write?bucket=${db}/raw&precision=ms`, { method: 'POST', body: `memory/rss,type=node value=1.5 ${t0}` });
    expect(pre.status).toBe(204);

    const before = simulatedBatches({ cluster: 'test-cluster', nodes: 1, podsPerNode: 1, times: [t0!], nodePrefix: 'before' });
    const after = simulatedBatches({ cluster: 'test-cluster', nodes: 1, podsPerNode: 1, times: [t1!], nodePrefix: 'after' });
    const conflicting = simulatedBatches({ cluster: 'test-cluster', nodes: 1, podsPerNode: 0, times: [t0!], nodePrefix: 'conflict' })[0]!;
    conflicting.points.push({ metric: 'memory/rss', entityType: 'node', tags: { nodename: 'conflict-0' }, timestamp: t0!, value: 42 });
    const unknownMetric = simulatedBatches({ cluster: 'test-cluster', nodes: 1, podsPerNode: 0, times: [t0!], nodePrefix: 'unknown' })[0]!;
    unknownMetric.points.push({ metric: 'made/up', entityType: 'node', tags: { nodename: 'unknown-0' }, timestamp: t0!, value: 1 });

    await produceBatches(kafka, topic, before);
    await produceRaw(kafka, topic, [
      { key: 'p1', value: '{not json' },
      { key: 'p2', value: JSON.stringify({ ...JSON.parse(metricPointBatchCodec.encode(before[0]!).toString()), schemaVersion: '3.0' }) },
      { key: 'p3', value: JSON.stringify({ schemaVersion: '2.0', cluster: 'c', resolution: 'native', producedAt: 1, entities: [{ entityType: 'node', tags: {}, points: [['cpu/usage_rate']] }] }) },
      { key: 'p4', value: metricPointBatchCodec.encode({ ...before[0]!, resolution: '1h' }).toString() },
    ]);
    await produceBatches(kafka, topic, [conflicting, unknownMetric]);
    await produceRaw(kafka, prefix + TOPICS.events.name, [{ key: 'e1', value: '{"schemaVersion":"1.0","id":"x"}' }]);
    await produceBatches(kafka, topic, after);

    const letters = (await readTopic(kafka, prefix + TOPICS.deadLetter.name, (m) => m.length >= 7, 60_000)).map((m) => {
      const d = deadLetterCodec.decode(m.value);
      if (!d.ok) throw d.error;
      return d.value;
    });
    const byKey = (k: string) => letters.find((l: DeadLetter) => l.key?.data === k);
    expect(byKey('p1')).toMatchObject({ reason: 'decode:invalid-json', source: { topic, partition: 0 }, service: 'storage-writer', value: { encoding: 'utf8', data: '{not json' } });
    expect(byKey('p2')?.reason).toBe('decode:unsupported-version');
    expect(byKey('p3')?.reason).toBe('decode:invalid-record');
    expect(byKey('p4')?.reason).toBe('decode:wrong-resolution');
    expect(byKey('e1')?.reason).toBe('decode:invalid-record');
    expect(byKey('conflict-0')).toMatchObject({ reason: 'influx:field-type-conflict' });
    expect(byKey('conflict-0')!.error).toContain('memory/rss');
    expect(byKey('unknown-0')?.reason).toBe('encode:unknown-metric');
    expect(letters).toHaveLength(7);

    // Everything good was written: before, after, and the good points of the partly bad records.
    const good = expectedMetricPoints([before[0]!, after[0]!, { ...conflicting, points: conflicting.points.slice(0, -1) }, { ...unknownMetric, points: unknownMetric.points.slice(0, -1) }], 'heapster');
    const stored = await until('good points', good, async () => new Map([...(await readInfluxQl(db, 'raw'))].filter(([k]) => !k.startsWith('memory/rss|type=node|'))));
    expect(diff(good, stored)).toEqual({ missing: [], wrong: [], extra: [] });
    await waitFor('committed past', async () => (await consumerLag(kafka, setup.group, [topic])).every((l) => l.lag === 0), { timeoutMs: 30_000 });
    const metrics = await (await fetch(`${running[0]!.url}/metrics`)).text();
    expect(metrics).toMatch(/heapstream_dead_letters_total\{reason="influx:field-type-conflict",service="storage-writer"\} 1/);
  });

  it('replaying the whole topic with a new consumer group rewrites the same points: series and point counts unchanged', async () => {
    const setup = setupFor({ HEAPSTREAM_STORAGE_SCHEMA: 'heapster' });
    running.push(await startWriter(setup.env));
    const { prefix, db } = setup;
    const batches = simulatedBatches({ cluster: 'test-cluster', nodes: 4, podsPerNode: 3, times: recentTimes(4) });
    const events = simulatedEvents(9, recentTimes(1)[0]!);
    await produceBatches(kafka, prefix + TOPICS.metrics.name, batches);
    await produceEvents(kafka, prefix + TOPICS.events.name, events);
    const expected = expectedMetricPoints(batches, 'heapster');
    const total = expected.size + events.length;
    await waitFor('first pass', async () => (await readInfluxQl(db, 'raw')).size >= total, { timeoutMs: 60_000, intervalMs: 300 });
    const first = await readInfluxQl(db, 'raw');
    const seriesBefore = await influxQl('SHOW SERIES EXACT CARDINALITY', db);

    await running.pop()!.shutdown();
    const replayGroup = `${setup.group}-replay`;
    running.push(await startWriter({ ...setup.env, HEAPSTREAM_GROUP_ID: replayGroup }));
    const topics = [prefix + TOPICS.metrics.name, prefix + TOPICS.events.name];
    await waitFor('replayed', async () => {
      const lag = await consumerLag(kafka, replayGroup, topics);
      return lag.length === 4 && lag.every((l) => l.lag === 0);
    }, { timeoutMs: 60_000, intervalMs: 500 });
    const second = await readInfluxQl(db, 'raw');
    expect(second.size).toBe(first.size);
    expect(diff(first, second)).toEqual({ missing: [], wrong: [], extra: [] });
    expect(await influxQl('SHOW SERIES EXACT CARDINALITY', db)).toEqual(seriesBefore);
  });

  it('creates one retention policy per tier as configured, and corrects policies that existed with other durations', async () => {
    const setup = setupFor({ INFLUX_RETENTION_RAW: '2d', INFLUX_RETENTION_1M: '14d', INFLUX_RETENTION_1H: 'INF' });
    const { db } = setup;
    await influxQl(`CREATE DATABASE "${db}"`);
    await influxQl(`CREATE RETENTION POLICY "raw" ON "${db}" DURATION 1h REPLICATION 1`);
    await influxQl(`CREATE RETENTION POLICY "rollup_1h" ON "${db}" DURATION 30d REPLICATION 1 DEFAULT`);
    running.push(await startWriter(setup.env));
    const policies = async () => {
      const [s] = await influxQl(`SHOW RETENTION POLICIES ON "${db}"`);
      return Object.fromEntries((s?.values ?? []).map((v) => [v[0], { duration: v[1], default: v[4] }]).sort(([a], [b]) => String(a).localeCompare(String(b))));
    };
    const want = {
      raw: { duration: '48h0m0s', default: true },
      rollup_1m: { duration: '336h0m0s', default: false },
      rollup_1h: { duration: '0s', default: false },
    };
    await waitFor('policies', async () => isDeepStrictEqual((({ autogen: _, ...p }) => p)(await policies()), want), { timeoutMs: 30_000, intervalMs: 300 });
    const { autogen: _autogen, ...rest } = await policies();
    expect(rest).toEqual(want);
  });
});
