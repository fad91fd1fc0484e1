/**
 * Benchmark (not a test): drives Events through the real API server at a target rate
 * and reports end-to-end delay (API write acknowledged -> record readable in Kafka,
 * read_committed) and the watcher's CPU. The watcher runs as a child process (the real
 * service bundle), so its CPU is measured on its own.
 *
 *   ./heapstream bench event-watcher -- --rate 2000 --seconds 20 --repeat-share 0.3 --concurrency 128
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_WATCHER_CHECKPOINT_TOPIC, EVENTS_TOPIC, decodeEventRecord } from '@heapstream/contracts';
import { createTopics, testEnv, testKafka, uniqueName, waitFor } from '@heapstream/testing';
import { parseArgs } from 'node:util';
import { createCoreEvent, createNamespace, kubeHttp, repeatCoreEvent } from './testing/harness.js';
import { spawnWatcher } from './testing/process.js';

const { values: args } = parseArgs({
  options: {
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '20' },
    'repeat-share': { type: 'string', default: '0.3' },
    concurrency: { type: 'string', default: '128' },
  },
});
const rate = Number(args.rate);
const seconds = Number(args.seconds);
const repeatShare = Number(args['repeat-share']);
const concurrency = Number(args.concurrency);

const quantile = (sorted: number[], q: number) => (sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!);

async function cpuSeconds(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = /^heapstream_process_process_cpu_seconds_total\{[^}]*\} ([\d.e+-]+)$/m.exec(text) ?? /^heapstream_process_cpu_seconds_total\{[^}]*\} ([\d.e+-]+)$/m.exec(text);
  return m ? Number(m[1]) : NaN;
}

async function main() {
  const http = await kubeHttp();
  const kafka = testKafka('event-watcher-bench');
  const ns = uniqueName('ewbench');
  await createNamespace(http, ns);
  const prefix = `${ns}.`;
  const topic = `${prefix}${EVENTS_TOPIC}`;
  await createTopics(kafka, [
    { topic, numPartitions: 6 },
    { topic: `${prefix}${EVENT_WATCHER_CHECKPOINT_TOPIC}`, compacted: true },
  ]);
  const w = await spawnWatcher(
    'bench',
    {
      KAFKA_BROKERS: testEnv().KAFKA_BROKERS,
      KUBECONFIG: testEnv().KUBECONFIG,
      HEAPSTREAM_TOPIC_PREFIX: prefix,
      EVENTS_NAMESPACES: ns,
      LEASE_NAMESPACE: ns,
      EVENTS_RESOLVE_WORKLOADS: 'false',
      EVENTS_FLUSH_INTERVAL: '50ms',
      EVENTS_MAX_BATCH: '1000',
      KAFKA_COMPRESSION: 'none',
      LOG_LEVEL: 'warn',
    },
    join(tmpdir(), 'heapstream-event-watcher-bench'),
  );
  const url = await w.url;
  await waitFor('watcher ready', async () => (await w.isLeader()) && (await w.ready()), { timeoutMs: 60_000 });

  // Consumer: when did each record id become readable?
  const seenAt = new Map<string, number>();
  let duplicates = 0;
  const consumer = kafka.consumer({ groupId: uniqueName('bench'), maxWaitTimeInMs: 20 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    partitionsConsumedConcurrently: 6,
    eachBatch: async ({ batch }) => {
      const now = Date.now();
      for (const m of batch.messages) {
        const d = decodeEventRecord(m.value);
        if (!d.ok) continue;
        if (seenAt.has(d.value.id)) duplicates++;
        else seenAt.set(d.value.id, now);
      }
    },
  });

  const ackedAt = new Map<string, number>();
  const names: string[] = [];
  let errors = 0;
  let issued = 0;
  const total = Math.round(rate * seconds);
  const started = Date.now();
  const cpuBefore = await cpuSeconds(url);
  let inFlight = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate));
      while (issued < due && inFlight < concurrency) {
        const i = issued++;
        inFlight++;
        const repeat = names.length > 100 && Math.random() < repeatShare;
        const name = repeat ? names[Math.floor(Math.random() * names.length)]! : `b-${i}`;
        const op = repeat ? repeatCoreEvent(http, ns, name) : createCoreEvent(http, ns, name);
        op.then(
          (e) => {
            ackedAt.set(`${e.metadata.uid}:${e.count ?? 1}`, Date.now());
            if (!repeat) names.push(name);
          },
          () => errors++,
        ).finally(() => {
          inFlight--;
          if (issued >= total && inFlight === 0) resolve();
        });
      }
      if (issued < total) setTimeout(tick, 5);
    };
    tick();
  });
  const writeSeconds = (Date.now() - started) / 1000;
  await waitFor('records for every acknowledged write', async () => [...ackedAt.keys()].every((id) => seenAt.has(id)), { timeoutMs: 120_000, intervalMs: 200 });
  const wall = (Date.now() - started) / 1000;
  const cpuAfter = await cpuSeconds(url);
  const delays = [...ackedAt].map(([id, t]) => seenAt.get(id)! - t).sort((a, b) => a - b);
  w.child.kill('SIGTERM');
  await w.exited;
  await consumer.disconnect();
  const report = {
    targetRate: rate,
    writes: ackedAt.size,
    writeErrors: errors,
    achievedWriteRate: Math.round(ackedAt.size / writeSeconds),
    records: seenAt.size,
    duplicates,
    delayMs: { p50: quantile(delays, 0.5), p99: quantile(delays, 0.99), max: delays.at(-1) },
    watcherCpu: { seconds: +(cpuAfter - cpuBefore).toFixed(2), coresAverage: +((cpuAfter - cpuBefore) / wall).toFixed(2) },
  };
  console.log(JSON.stringify(report, null, 2));
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
