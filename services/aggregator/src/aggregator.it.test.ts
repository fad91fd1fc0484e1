import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { deadLetterCodec, eventRecordCodec, metricPointBatchCodec, rawScrapeCodec, TOPICS, toPayload, type RawScrape } from '@heapstream/contracts';
import { createTopics, testEnv, testKafka, uniqueName, waitFor } from '@heapstream/testing';
import { AGGREGATOR_EVENT_COUNTS_STATE_TOPIC, AGGREGATOR_STATE_TOPIC, settingsOf, aggregatorConfigSchema } from './config.js';
import { PartitionProcessor } from './core/processor.js';
import { simulatedScrape } from './core/simulate.js';
import { EventCounter } from './events/event-counter.js';
import { occurrence } from './events/testing.js';

/*
 * The aggregator as a child process against the real broker. A recorded input stream
 * (simulated scrapes plus bad records) must give exactly the records the pure core
 * computes, partition by partition: once straight through, once with the process
 * SIGKILLed and restarted several times mid-stream, and once with two instances
 * taking partitions from each other. Event records on the event topic go the same way
 * through the event-derived counters. Output is read read_committed.
 */

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const MAIN = 'services/aggregator/src/main.ts';
const PARTITIONS = 2;
const NODES = 6;
const CYCLES = 60;
// Recent: records older than the topic retention (by their timestamp) would be deleted under us.
const T0 = Math.floor((Date.now() - 2 * 3_600_000) / 3_600_000) * 3_600_000;

const ENV = {
  HEAPSTREAM_ENRICH: 'false',
  AGGREGATOR_ENSURE_TOPICS: 'false',
  HEAPSTREAM_HTTP_PORT: '0',
  AGGREGATOR_SESSION_TIMEOUT: '6s',
  AGGREGATOR_MAX_BATCH_BYTES: '1024', // one scrape per transaction: many commit points to die between,
  // Snapshots every 2 s, so most kills and hand-overs land between two and the new owner replays the input since.
  AGGREGATOR_SNAPSHOT_INTERVAL: '2s',
  HEAPSTREAM_WINDOW_1M: '1m',
  HEAPSTREAM_WINDOW_1H: '4m',
  HEAPSTREAM_WINDOW_LATENESS: '20s',
  HEAPSTREAM_ROLLUP_CYCLE: '15s',
  KAFKA_COMPRESSION: 'none',
  LOG_LEVEL: 'info',
};

interface InputRecord {
  topic: 'raw' | 'events';
  partition: number;
  key: string;
  value: Buffer;
  timestamp: number;
}

/** The recorded stream: node n always on partition n % PARTITIONS, with three bad records mixed in. */
function recordedInput(): InputRecord[] {
  const sim = { nodes: NODES, podsPerNode: 3, t0: T0, intervalMs: 15_000 };
  const out: InputRecord[] = [];
  for (let c = 0; c < CYCLES; c++) {
    for (let n = 0; n < NODES; n++) {
      const s: RawScrape = simulatedScrape(sim, n, c);
      if (c === 20 && n === 1) s.pods[0]!.containers[0]!.startTime! -= 60_000; // start time goes backwards
      out.push({ topic: 'raw', partition: n % PARTITIONS, key: s.node, value: rawScrapeCodec.encode(s), timestamp: s.scrape.finishedAt });
    }
    if (c === 10) out.push({ topic: 'raw', partition: 0, key: 'node-00000', value: Buffer.from('{"not json'), timestamp: T0 + c * 15_000 });
    if (c === 12) out.push({ topic: 'raw', partition: 1, key: 'node-00001', value: Buffer.from(JSON.stringify({ schemaVersion: '1.0', cluster: 'sim' })), timestamp: T0 + c * 15_000 });
  }
  return [...out, ...recordedEvents()];
}

/** Event occurrences over the same quarter hour: a few reasons, namespaces and workloads, one late, one undecodable. */
function recordedEvents(): InputRecord[] {
  const reasons = ['BackOff', 'OOMKilled', 'FailedScheduling', 'Evicted'];
  const out: InputRecord[] = [];
  for (let i = 0; i < 90; i++) {
    const at = T0 + i * 10_000 + (i % 3) * 1_000;
    const rec = occurrence(at, reasons[i % reasons.length]!, { ns: `ns-${i % 3}`, ...(i % 2 === 0 ? { workload: `web-${i % 4}` } : {}), ...(i % 17 === 0 ? { coalesced: 3 } : {}) });
    out.push({ topic: 'events', partition: i % PARTITIONS, key: rec.event.uid, value: eventRecordCodec.encode(rec), timestamp: at });
    if (i === 40) {
      const late = occurrence(T0, 'BackOff', { ns: 'ns-0' }); // minute 0 closed long ago: counted and dropped
      out.push({ topic: 'events', partition: 0, key: late.event.uid, value: eventRecordCodec.encode(late), timestamp: at });
      out.push({ topic: 'events', partition: 1, key: 'bad', value: Buffer.from('{"schemaVersion":"1.0"}'), timestamp: at });
    }
  }
  return out;
}

/** What the service must write: the pure core run over each partition, encoded the same way. */
function expectedOutput(input: InputRecord[], prefix: string): string[] {
  const config = aggregatorConfigSchema.parse({ ...ENV, KAFKA_BROKERS: 'x:1' });
  const topic = { metrics: TOPICS.metrics.name, '1m': TOPICS.rollup1m.name, '1h': TOPICS.rollup1h.name };
  const out: string[] = [];
  for (let p = 0; p < PARTITIONS; p++) {
    const counter = new EventCounter({ producer: 'aggregator', windows: settingsOf(config).windows, allowedLatenessMs: config.HEAPSTREAM_WINDOW_LATENESS, cluster: 'default', shard: String(p) });
    let offset = 0;
    for (const r of input.filter((i) => i.topic === 'events' && i.partition === p)) {
      const decoded = eventRecordCodec.decode(r.value);
      if (!decoded.ok) {
        const error = decoded.error;
        out.push(line(prefix + TOPICS.deadLetter.name, r.key, deadLetterCodec.encode({ source: { topic: prefix + TOPICS.events.name, partition: p, offset: String(offset) }, key: toPayload(Buffer.from(r.key)), value: toPayload(r.value), reason: `aggregator:decode:${error.reason}`, error: error.message, time: r.timestamp, service: 'aggregator' })));
      } else {
        counter.ingest(decoded.value);
        for (const rec of counter.close()) out.push(line(prefix + topic[rec.stream], rec.key, metricPointBatchCodec.encode(rec.batch)));
      }
      offset++;
    }
  }
  for (let p = 0; p < PARTITIONS; p++) {
    const proc = new PartitionProcessor({ ...settingsOf(config), shard: String(p) });
    let offset = 0;
    for (const r of input.filter((i) => i.topic === 'raw' && i.partition === p)) {
      const dlq = (reason: string, error: string) =>
        out.push(line(prefix + TOPICS.deadLetter.name, r.key, deadLetterCodec.encode({ source: { topic: prefix + TOPICS.metricsRaw.name, partition: p, offset: String(offset) }, key: toPayload(Buffer.from(r.key)), value: toPayload(r.value), reason: `aggregator:${reason}`, error, time: r.timestamp, service: 'aggregator' })));
      const decoded = rawScrapeCodec.decode(r.value);
      if (!decoded.ok) dlq(`decode:${decoded.error.reason}`, decoded.error.message);
      else {
        const res = proc.ingest(decoded.value, r.timestamp);
        if (res.deadLetter) dlq(res.deadLetter.reason, res.deadLetter.error);
        for (const rec of res.records) out.push(line(prefix + topic[rec.stream], rec.key, metricPointBatchCodec.encode(rec.batch)));
      }
      offset++;
    }
  }
  return out.sort();
}

const until = (what: string, check: () => Promise<boolean>, timeoutMs: number) => waitFor(what, check, { timeoutMs, intervalMs: 200 });
const line = (topic: string, key: string | null, value: Buffer) => `${topic} ${key} ${value.toString('utf8')}`;

async function setup(kafka: Kafka, input: InputRecord[]) {
  const prefix = `${uniqueName('agg')}.`;
  const t = (name: string) => prefix + name;
  await createTopics(kafka, [
    { topic: t(TOPICS.metricsRaw.name), numPartitions: PARTITIONS },
    { topic: t(TOPICS.metrics.name), numPartitions: 2 },
    { topic: t(TOPICS.rollup1m.name), numPartitions: 2 },
    { topic: t(TOPICS.rollup1h.name), numPartitions: 2 },
    { topic: t(TOPICS.deadLetter.name), numPartitions: 1 },
    { topic: t(AGGREGATOR_STATE_TOPIC), numPartitions: PARTITIONS, compacted: true },
    { topic: t(TOPICS.events.name), numPartitions: PARTITIONS },
    { topic: t(AGGREGATOR_EVENT_COUNTS_STATE_TOPIC), numPartitions: PARTITIONS, compacted: true },
  ]);
  // Idempotent: a retried send on a busy machine must not duplicate the recorded input.
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  // One send per few records: Kafka hands consumers whole record batches, and small ones
  // give the aggregator many transactions to be killed between.
  for (const [kind, topic, headers] of [['raw', t(TOPICS.metricsRaw.name), rawScrapeCodec.headers()], ['events', t(TOPICS.events.name), eventRecordCodec.headers()]] as const) {
    const records = input.filter((r) => r.topic === kind);
    for (let i = 0; i < records.length; i += 4) {
      await producer.send({ topic, messages: records.slice(i, i + 4).map((r) => ({ partition: r.partition, key: r.key, value: r.value, timestamp: String(r.timestamp), headers })) });
    }
  }
  await producer.disconnect();
  if (input.length === 0) return prefix;
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ends = [...(await admin.fetchTopicOffsets(t(TOPICS.metricsRaw.name))), ...(await admin.fetchTopicOffsets(t(TOPICS.events.name)))];
    expect(ends.reduce((sum, e) => sum + Number(e.high), 0)).toBe(input.length);
  } finally {
    await admin.disconnect();
  }
  return prefix;
}

const children = new Set<ChildProcess>();
function startAggregator(prefix: string, env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', '--import', 'tsx', MAIN], {
    cwd: ROOT,
    env: { ...process.env, ...ENV, KAFKA_BROKERS: testEnv().KAFKA_BROKERS, HEAPSTREAM_TOPIC_PREFIX: prefix, ...env },
    stdio: ['ignore', openSync(join(tmpdir(), `${prefix}log`), 'a'), 'inherit'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
const stopped = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));

/** Input records the group has committed past, over all partitions (one admin connection per test file). */
let admin: ReturnType<Kafka['admin']> | undefined;
async function committed(kafka: Kafka, prefix: string): Promise<number> {
  if (!admin) {
    admin = kafka.admin();
    await admin.connect();
  }
  let sum = 0;
  for (const [groupId, topic] of [[`${prefix}heapstream-aggregator`, TOPICS.metricsRaw.name], [`${prefix}heapstream-aggregator.events`, TOPICS.events.name]]) {
    const [offsets] = await admin.fetchOffsets({ groupId: groupId!, topics: [prefix + topic] });
    sum += (offsets?.partitions ?? []).reduce((s, p) => s + Math.max(0, Number(p.offset)), 0);
  }
  return sum;
}

/** Every committed record of the output topics (read_committed), as sorted lines. */
async function readOutput(kafka: Kafka, prefix: string, expected: number): Promise<string[]> {
  const topics = [TOPICS.metrics.name, TOPICS.rollup1m.name, TOPICS.rollup1h.name, TOPICS.deadLetter.name].map((n) => prefix + n);
  const consumer = kafka.consumer({ groupId: uniqueName('reader'), readUncommitted: false });
  const lines: string[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  // A reader's own rebalance or fetch retry redelivers records it already handed over:
  // a record is counted once per offset, so only the aggregator's duplicates (another
  // offset, same content) show up as extra.
  const seen = new Set<string>();
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const at = `${topic}/${partition}/${message.offset}`;
      if (seen.has(at)) return;
      seen.add(at);
      lines.push(line(topic, message.key?.toString() ?? null, message.value ?? Buffer.alloc(0)));
    },
  });
  try {
    await until(`${expected} output records`, async () => lines.length >= expected, 60_000);
    // Nothing beyond the expected count may follow: give a duplicate the chance to show up.
    const end = Date.now() + 2_000;
    await until('no extra record', async () => Date.now() >= end || lines.length > expected, 10_000);
  } finally {
    await consumer.disconnect();
  }
  return lines.sort();
}

/** Lines expected but not read, and read but not expected (duplicates count), shortened for the report. */
function difference(got: string[], expected: string[]): { missing: string[]; extra: string[] } {
  const count = new Map<string, number>();
  for (const l of expected) count.set(l, (count.get(l) ?? 0) + 1);
  const extra: string[] = [];
  for (const l of got) {
    const n = count.get(l) ?? 0;
    if (n > 0) count.set(l, n - 1);
    else extra.push(l);
  }
  const missing = [...count].flatMap(([l, n]) => Array<string>(n).fill(l));
  const short = (l: string) => (l.length > 600 ? `${l.slice(0, 600)}…` : l);
  return { missing: missing.map(short), extra: extra.map(short) };
}

describe('aggregator against Kafka', () => {
  const kafka = testKafka('aggregator-it');
  const input = recordedInput();
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await admin?.disconnect();
  });

  it('straight through: exactly the records the core computes, bad records dead-lettered', async () => {
    const prefix = await setup(kafka, input);
    const expected = expectedOutput(input, prefix);
    expect(expected.filter((l) => l.includes('deadletter')).length).toBe(4);
    expect(expected.filter((l) => l.includes('event_occurrences')).length).toBeGreaterThan(20);
    // Large batches here (many scrapes per transaction): the output must not depend on batch boundaries.
    const child = startAggregator(prefix, { AGGREGATOR_MAX_BATCH_BYTES: String(4 * 1024 * 1024) });
    await until('committed === input.length', async () => (await committed(kafka, prefix)) === input.length, 90_000);
    const got = await readOutput(kafka, prefix, expected.length);
    child.kill('SIGTERM');
    await stopped(child);
    expect(difference(got, expected)).toEqual({ missing: [], extra: [] });
  });

  it('killed with SIGKILL and restarted mid-stream: byte-identical output, nothing lost or duplicated', async () => {
    const prefix = await setup(kafka, input);
    const expected = expectedOutput(input, prefix);
    const killedAt: number[] = [];
    for (const target of [0.15, 0.4, 0.65].map((f) => Math.floor(input.length * f))) {
      const t = Date.now();
      const child = startAggregator(prefix);
      const before = await committed(kafka, prefix);
      // Kill once this instance has made progress past the target: mid-stream, often mid-transaction.
      await until('progress', async () => (await committed(kafka, prefix)) >= Math.max(before + 1, target), 90_000);
      child.kill('SIGKILL');
      await stopped(child);
      killedAt.push(await committed(kafka, prefix));
      console.log(`killed at ${killedAt.at(-1)} of ${input.length} after ${Date.now() - t}ms (${prefix})`);
    }
    expect(killedAt[2]).toBeLessThan(input.length);
    const last = startAggregator(prefix);
    await until('committed === input.length', async () => (await committed(kafka, prefix)) === input.length, 120_000);
    const got = await readOutput(kafka, prefix, expected.length);
    last.kill('SIGTERM');
    await stopped(last);
    expect(difference(got, expected)).toEqual({ missing: [], extra: [] });
  }, 400_000);

  it('event records written in transactions, as the event-watcher writes them: no partition reloads per batch', async () => {
    const prefix = await setup(kafka, []);
    const events = recordedEvents();
    const topic = prefix + TOPICS.events.name;
    // Small transactions: each leaves a commit marker, which takes an offset, after its records.
    const producer = kafka.producer({ transactionalId: uniqueName('event-watcher'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    for (let i = 0; i < events.length; i += 3) {
      const messages = events.slice(i, i + 3).map((r) => ({ partition: r.partition, key: r.key, value: r.value, timestamp: String(r.timestamp), headers: eventRecordCodec.headers() }));
      // A fresh topic's leaders may still be moving: retry an aborted transaction.
      await waitFor('transaction committed', async () => {
        let txn: Awaited<ReturnType<typeof producer.transaction>> | undefined;
        try {
          txn = await producer.transaction();
          await txn.send({ topic, messages });
          await txn.commit();
          return true;
        } catch {
          await txn?.abort().catch(() => undefined);
          return false;
        }
      }, { timeoutMs: 30_000, intervalMs: 500 });
    }
    await producer.disconnect();
    const child = startAggregator(prefix);
    const reader = kafka.admin();
    await reader.connect();
    try {
      const ends = await reader.fetchTopicOffsets(topic);
      // Consumed when the group's offset reaches each partition's last record (the last marker stays after it).
      await until('events consumed', async () => {
        const [offsets] = await reader.fetchOffsets({ groupId: `${prefix}heapstream-aggregator.events`, topics: [topic] });
        return ends.every((e) => Number(offsets?.partitions.find((p) => p.partition === e.partition)?.offset ?? -1) >= Number(e.high) - 1);
      }, 90_000);
    } finally {
      await reader.disconnect();
    }
    child.kill('SIGTERM');
    await stopped(child);
    const log = readFileSync(join(tmpdir(), `${prefix}log`), 'utf8');
    expect(log).not.toContain('partition moved away and back');
    expect(log.match(/event-count state restored/g)?.length ?? 0).toBeLessThanOrEqual(PARTITIONS);
  });

  it('two instances rebalancing partitions: byte-identical output', async () => {
    const prefix = await setup(kafka, input);
    const expected = expectedOutput(input, prefix);
    const a = startAggregator(prefix);
    await until('committed >= input.length * 0.25', async () => (await committed(kafka, prefix)) >= input.length * 0.25, 90_000);
    const b = startAggregator(prefix); // joins: the partitions are split between a and b
    await until('committed >= input.length * 0.6', async () => (await committed(kafka, prefix)) >= input.length * 0.6, 90_000);
    a.kill('SIGTERM'); // leaves: b takes everything
    await stopped(a);
    await until('committed === input.length', async () => (await committed(kafka, prefix)) === input.length, 120_000);
    const got = await readOutput(kafka, prefix, expected.length);
    b.kill('SIGTERM');
    await stopped(b);
    expect(difference(got, expected)).toEqual({ missing: [], extra: [] });
  }, 400_000);
});
