/*
 * Helpers for the storage writer's integration tests: a simulated stream, the points
 * InfluxDB must hold afterwards (derived from the documented schema, independently of
 * the encoder), and read-back through InfluxQL (/query) and Flux (/api/v2/query).
 */
import type { Kafka } from 'kafkajs';
import {
  encodeEventRecord,
  metricPointBatchCodec,
  nodeKey,
  type EventRecord,
  type MetricPoint,
  type MetricPointBatch,
  type Resolution,
} from '@heapstream/contracts';
import { findMetric, HIGH_CARDINALITY_TAGS, splitMetricName, windowFieldsOf, type StorageSchemaName } from '@heapstream/metric-model';
import { startService, type RunningService } from '@heapstream/service-runtime';
import { testEnv, uniqueName } from '@heapstream/testing';
import { eventTimestampNs } from '../event-lines.js';
import { storageWriterService } from '../service.js';

export type Batch = Omit<MetricPointBatch, 'schemaVersion'>;
/** `measurement|k=v,k=v|field|timeNs` -> value. */
export type PointSet = Map<string, number | string | boolean>;

const key = (measurement: string, tags: Record<string, string>, field: string, timeNs: string) =>
  `${measurement}|${Object.entries(tags)
    .filter(([, v]) => v !== '' && v !== undefined && v !== null)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}|${field}|${timeNs}`;

/** A simulated cluster's stream: one batch per node per time; values differ by node, pod and time. */
export function simulatedBatches(o: { cluster: string; nodes: number; podsPerNode: number; times: number[]; resolution?: Resolution; nodePrefix?: string }): Batch[] {
  const resolution = o.resolution ?? 'native';
  const out: Batch[] = [];
  for (const [ti, t] of o.times.entries()) {
    for (let n = 0; n < o.nodes; n++) {
      const node = `${o.nodePrefix ?? 'node'}-${n}`;
      const points: MetricPoint[] = [];
      const add = (metric: string, entityType: MetricPoint['entityType'], tags: Record<string, string>, v: number) => {
        const isInt = findMetric(metric)!.valueType === 'int';
        const value = isInt ? Math.round(v) : v;
        const p: MetricPoint = { metric, entityType, tags, timestamp: t, value };
        if (resolution !== 'native') {
          const step = isInt ? 2 : 0.5;
          p.window = { start: t, end: t + (resolution === '1m' ? 60_000 : 3_600_000), min: value - step, max: value + step, sum: value * 4, count: 4, last: value + step };
        }
        points.push(p);
      };
      const nodeTags = { nodename: node, hostname: `${node}.example`, host_id: `id-${node}` };
      add('cpu/usage_rate', 'node', nodeTags, 1000 + n * 10 + ti + 0.25);
      add('memory/usage', 'node', nodeTags, 8e9 + n * 1e6 + ti);
      add('memory/working_set', 'node', nodeTags, 6e9 + n * 1e6 + ti);
      add('network/rx_rate', 'node', nodeTags, 12_345.5 + n + ti);
      add('filesystem/usage', 'node', { ...nodeTags, resource_id: '/' }, 2e10 + n + ti);
      for (let p = 0; p < o.podsPerNode; p++) {
        const podTags = { ...nodeTags, namespace_name: `ns-${p % 3}`, pod_name: `pod-${n}-${p}`, pod_id: `uid-${n}-${p}`, labels: `app:a${p},tier:web` };
        add('cpu/usage_rate', 'pod', podTags, 10 + p + ti + 0.5);
        add('memory/working_set', 'pod', podTags, 1e8 + p * 1000 + ti);
        const cTags = { ...podTags, container_name: 'app', container_base_image: 'registry.example/app:1.2' };
        add('cpu/usage_rate', 'pod_container', cTags, 9 + p + ti + 0.125);
        add('memory/usage', 'pod_container', cTags, 9e7 + p * 1000 + ti);
        add('restart_count', 'pod_container', cTags, p % 2);
      }
      out.push({ cluster: o.cluster, resolution, producedAt: t + 1000, producer: 'test', points });
    }
  }
  return out;
}

/** The points the documented schema says InfluxDB holds for these batches. */
export function expectedMetricPoints(batches: readonly Batch[], schema: StorageSchemaName): PointSet {
  const drop = new Set<string>(HIGH_CARDINALITY_TAGS);
  const out: PointSet = new Map();
  for (const b of batches) {
    for (const p of b.points) {
      const [measurement, field] = schema === 'wide' ? splitMetricName(p.metric) : [p.metric, 'value'];
      const tags: Record<string, string> = { type: p.entityType, cluster_name: b.cluster };
      for (const [k, v] of Object.entries(p.tags)) if (!drop.has(k)) tags[k] = v;
      const ts = `${p.timestamp}000000`;
      if (p.window) {
        const w = p.window;
        for (const summary of windowFieldsOf(findMetric(p.metric)!)) {
          out.set(key(measurement, tags, `${field}_${summary}`, ts), summary === 'mean' ? p.value : w[summary]);
        }
      } else out.set(key(measurement, tags, field, ts), p.value);
    }
  }
  return out;
}

export function expectedEventPoints(records: readonly EventRecord[], clusterName: string): PointSet {
  const out: PointSet = new Map();
  for (const r of records) {
    const tags = {
      cluster_name: r.cluster ?? clusterName,
      namespace_name: r.involvedObject.namespace ?? r.event.namespace ?? '',
      kind: r.involvedObject.kind ?? '',
      object_name: r.involvedObject.name ?? '',
      reason: r.event.reason ?? '',
      type: r.event.type ?? '',
      component: r.event.reportingController ?? '',
      hostname: r.event.sourceHost ?? '',
    };
    const ts = eventTimestampNs(r).toString();
    out.set(key('events', tags, 'message', ts), r.event.message ?? '');
    out.set(key('events', tags, 'count', ts), r.occurrenceCount);
    out.set(key('events', tags, 'occurrence', ts), r.occurrence);
    out.set(key('events', tags, 'observed_at', ts), r.observedAt);
    out.set(key('events', tags, 'uid', ts), r.event.uid);
  }
  return out;
}

/** Event records: `n` events, some repeating, two sharing tags and millisecond. */
export function simulatedEvents(n: number, baseMs: number, cluster = 'test-cluster'): EventRecord[] {
  const out: EventRecord[] = [];
  for (let i = 0; i < n; i++) {
    const occurrence = (i % 3) + 1;
    const uid = `ev-${Math.floor(i / 3)}`;
    out.push({
      schemaVersion: '1.0',
      id: `${uid}:${occurrence}`,
      cluster,
      occurrence,
      occurrenceCount: occurrence,
      inferred: false,
      occurredAt: baseMs + Math.floor(i / 2) * 1000,
      observedAt: baseMs + i * 1000 + 5,
      event: {
        uid,
        namespace: 'default',
        name: `pod-${i % 4}.17a${i}`,
        sourceApi: 'v1',
        type: i % 5 === 0 ? 'Warning' : 'Normal',
        reason: i % 5 === 0 ? 'BackOff' : 'Pulled',
        message: i === 1 ? 'line one\nline "two", with \\ and , = spaces' : `Successfully pulled image "nginx:1.${i}"`,
        reportingController: 'kubelet',
        sourceHost: `node-${i % 2}`,
        count: occurrence,
      },
      involvedObject: { kind: 'Pod', namespace: 'default', name: `pod-${i % 4}`, uid: `pod-uid-${i % 4}` },
    });
  }
  return out;
}

function rfc3339ToNs(t: string): string {
  const m = /^(.*?)(?:\.(\d+))?Z$/.exec(t);
  if (!m) throw new Error(`not RFC 3339: ${t}`);
  const seconds = BigInt(Date.parse(`${m[1]}Z`)) / 1000n;
  return (seconds * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'))).toString();
}

/**
 * Every field of every point in one retention policy, by InfluxQL. One query per
 * measurement: a regex FROM merges same-named fields of different types (the integer
 * `value` of one measurement and the string `value` of log/events) and drops some.
 */
export async function readInfluxQl(db: string, rp: string, measurement?: string): Promise<PointSet> {
  const names = measurement ? [measurement] : ((await influxQl('SHOW MEASUREMENTS', db))[0]?.values ?? []).map((v) => v[0] as string);
  const out: PointSet = new Map();
  for (const name of names) {
    const q = `SELECT *::field FROM "${rp}"."${name.replace(/"/g, '\\"')}" GROUP BY *`;
    const res = await fetch(`${testEnv().INFLUX_URL}/query`, { method: 'POST', body: new URLSearchParams({ q, db }) });
    const json = (await res.json()) as { results: { series?: { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }[]; error?: string }[] };
    if (json.results[0]?.error) throw new Error(json.results[0].error);
    for (const s of json.results[0]?.series ?? []) {
      for (const row of s.values) {
        const ts = rfc3339ToNs(row[0] as string);
        s.columns.forEach((c, i) => {
          if (i > 0 && row[i] !== null) out.set(key(s.name, s.tags ?? {}, c, ts), row[i] as number | string);
        });
      }
    }
  }
  return out;
}

/** RFC 4180 records (quoted fields may hold commas, quotes and newlines). */
function csvRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      // Go's csv.Writer (UseCRLF, as Flux uses it) writes a \n inside a value as \r\n.
      else if (c === '\r' && text[i + 1] === '\n') continue;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(field);
      field = '';
    }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += c;
  }
  if (field || record.length) {
    record.push(field);
    records.push(record);
  }
  return records;
}

/**
 * The same through Flux on the 2.x-compatible query API. The CSV is parsed here:
 * @influxdata/influxdb-client 1.35 mangles a quoted string value that holds a newline.
 */
export async function readFlux(db: string, rp: string): Promise<PointSet> {
  const res = await fetch(`${testEnv().INFLUX_URL}/api/v2/query`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/csv', authorization: 'Token test:unused' },
    body: JSON.stringify({ query: `from(bucket: "${db}/${rp}") |> range(start: 1970-01-01T00:00:00Z)`, type: 'flux', dialect: { annotations: ['datatype'] } }),
  });
  if (!res.ok) throw new Error(`flux ${res.status}: ${await res.text()}`);
  const out: PointSet = new Map();
  const meta = new Set(['', 'result', 'table', '_start', '_stop', '_time', '_value', '_field', '_measurement']);
  let types: string[] = [];
  let header: string[] | undefined;
  for (const rec of csvRecords(await res.text())) {
    if (rec.length === 1 && rec[0] === '') {
      header = undefined;
      continue;
    }
    if (rec[0] === '#datatype') {
      types = rec;
      header = undefined;
      continue;
    }
    if (!header) {
      header = rec;
      continue;
    }
    const row = Object.fromEntries(header.map((h, i) => [h, rec[i] ?? '']));
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(row)) if (!meta.has(k) && v !== '') tags[k] = v;
    const t = types[header.indexOf('_value')];
    const raw = row._value!;
    const value = t === 'long' || t === 'unsignedLong' || t === 'double' ? Number(raw) : t === 'boolean' ? raw === 'true' : raw;
    out.set(key(row._measurement!, tags, row._field!, rfc3339ToNs(row._time!)), value);
  }
  return out;
}

export async function influxQl(q: string, db?: string): Promise<{ columns: string[]; values?: unknown[][]; name?: string }[]> {
  const res = await fetch(`${testEnv().INFLUX_URL}/query`, { method: 'POST', body: new URLSearchParams({ q, ...(db ? { db } : {}) }) });
  const json = (await res.json()) as { results: { series?: { columns: string[]; values?: unknown[][]; name?: string }[]; error?: string }[] };
  if (json.results[0]?.error) throw new Error(json.results[0].error);
  return json.results[0]?.series ?? [];
}

/** Tests drop their database at the end: the shared InfluxDB restarts faster with fewer shards. */
export async function dropDatabase(db: string): Promise<void> {
  await influxQl(`DROP DATABASE "${db}"`).catch(() => undefined);
}

/** Keys in `expected` missing or different in `actual`, and keys only in `actual` (first few). */
export function diff(expected: PointSet, actual: PointSet): { missing: string[]; wrong: string[]; extra: string[] } {
  const missing: string[] = [];
  const wrong: string[] = [];
  const extra: string[] = [];
  for (const [k, v] of expected) {
    if (!actual.has(k)) missing.push(k);
    else if (actual.get(k) !== v) wrong.push(`${k}: expected ${JSON.stringify(v)}, got ${JSON.stringify(actual.get(k))}`);
  }
  for (const k of actual.keys()) if (!expected.has(k)) extra.push(k);
  return { missing: missing.slice(0, 5).concat(missing.length > 5 ? [`(+${missing.length - 5})`] : []), wrong: wrong.slice(0, 5), extra: extra.slice(0, 5).concat(extra.length > 5 ? [`(+${extra.length - 5})`] : []) };
}

export interface WriterSetup {
  prefix: string;
  db: string;
  group: string;
  env: Record<string, string>;
}

/** Unique topic prefix, database and group for one test. */
export function writerSetup(overrides: Record<string, string> = {}): WriterSetup {
  const { KAFKA_BROKERS, INFLUX_URL } = testEnv();
  const prefix = `${uniqueName('sw')}.`;
  const db = uniqueName('sw').replaceAll('-', '_');
  const group = uniqueName('sw-group');
  return {
    prefix,
    db,
    group,
    env: {
      KAFKA_BROKERS,
      INFLUX_URL,
      INFLUX_TOKEN: 'test:unused',
      INFLUX_DATABASE: db,
      HEAPSTREAM_TOPIC_PREFIX: prefix,
      HEAPSTREAM_GROUP_ID: group,
      HEAPSTREAM_TOPIC_PARTITIONS: '2',
      HEAPSTREAM_CLUSTER_NAME: 'test-cluster',
      HEAPSTREAM_HTTP_PORT: '0',
      HEAPSTREAM_LAG_INTERVAL: '1s',
      HEAPSTREAM_LAG_GROWTH_SAMPLES: '3',
      INFLUX_RETRY_MAX_MS: '2000',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'error',
      ...overrides,
    },
  };
}

export function startWriter(env: Record<string, string>): Promise<RunningService> {
  return startService(storageWriterService(), env, { handleSignals: false });
}

export async function produceBatches(kafka: Kafka, topic: string, batches: readonly Batch[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let i = 0; i < batches.length; i += 200) {
      await producer.send({
        topic,
        acks: -1,
        messages: batches.slice(i, i + 200).map((b) => ({ key: nodeKey(String(b.points[0]?.tags.nodename ?? 'cluster')), value: metricPointBatchCodec.encode(b), headers: metricPointBatchCodec.headers() })),
      });
    }
  } finally {
    await producer.disconnect();
  }
}

export async function produceEvents(kafka: Kafka, topic: string, records: readonly EventRecord[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages: records.map((r) => encodeEventRecord(r)) });
  } finally {
    await producer.disconnect();
  }
}

export async function produceRaw(kafka: Kafka, topic: string, messages: { key: string; value: Buffer | string; headers?: Record<string, string> }[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    await producer.send({ topic, acks: -1, messages });
  } finally {
    await producer.disconnect();
  }
}

/** Minute-aligned times in the last hour, well inside every retention policy. */
export function recentTimes(count: number, stepMs = 15_000): number[] {
  const start = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
  return Array.from({ length: count }, (_, i) => start + i * stepMs);
}
