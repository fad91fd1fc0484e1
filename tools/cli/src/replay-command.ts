import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { TOPICS } from '@heapstream/contracts';
import { ProcessGroup, waitFor } from '@heapstream/infra';

/** The writer's inputs, by the names HEAPSTREAM_INPUTS uses. */
export const REPLAY_INPUTS = { metrics: TOPICS.metrics.name, rollup1m: TOPICS.rollup1m.name, rollup1h: TOPICS.rollup1h.name, events: TOPICS.events.name } as const;
export type ReplayInput = keyof typeof REPLAY_INPUTS;

/** A position: an ISO time or epoch ms (by record timestamp), or `offset:N` (every partition). */
export type Position = { time: number } | { offset: number } | { end: true };

export function parsePosition(v: string, flag: string): Position {
  if (v === 'end') return { end: true };
  if (/^offset:\d+$/.test(v)) return { offset: Number(v.slice(7)) };
  const ms = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (Number.isNaN(ms)) throw new Error(`${flag} "${v}" must be an ISO time (2026-01-31T12:00:00Z), epoch ms, offset:N or end`);
  return { time: ms };
}

async function offsetsAt(admin: Admin, topic: string, pos: Position): Promise<Map<number, bigint>> {
  const ends = await admin.fetchTopicOffsets(topic);
  if ('end' in pos) return new Map(ends.map((e) => [e.partition, BigInt(e.high)]));
  if ('offset' in pos) return new Map(ends.map((e) => [e.partition, BigInt(Math.min(Math.max(pos.offset, Number(e.low)), Number(e.high)))]));
  const byTime = await admin.fetchTopicOffsetsByTimestamp(topic, pos.time);
  // -1: no record at or after that time: the partition's end.
  return new Map(byTime.map((p) => [p.partition, BigInt(p.offset) < 0n ? BigInt(ends.find((e) => e.partition === p.partition)!.high) : BigInt(p.offset)]));
}

export interface ReplayOptions {
  brokers: string;
  influxUrl: string;
  database: string;
  topicPrefix: string;
  inputs: ReplayInput[];
  from: Position;
  to: Position;
  schema?: string;
  progress?: (line: string) => void;
  writerEnv?: Record<string, string>;
}

/**
 * Rewrites InfluxDB from the topics: a storage-writer with a fresh consumer group
 * whose offsets start at --from, stopped once every partition reached --to. Points
 * are idempotent (same measurement, tags and timestamp), so replaying into a database
 * that already holds them changes nothing, and records a little past --to are harmless.
 */
export async function replay(o: ReplayOptions): Promise<{ records: bigint; groupId: string }> {
  const progress = o.progress ?? (() => undefined);
  const kafka = new Kafka({ clientId: 'heapstream-replay', brokers: o.brokers.split(','), logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `heapstream-replay-${Date.now().toString(36)}`;
  const targets = new Map<string, Map<number, bigint>>();
  let total = 0n;
  try {
    for (const input of o.inputs) {
      const topic = o.topicPrefix + REPLAY_INPUTS[input];
      const start = await offsetsAt(admin, topic, o.from);
      const stop = await offsetsAt(admin, topic, o.to);
      await admin.setOffsets({ groupId, topic, partitions: [...start].map(([partition, offset]) => ({ partition, offset: offset.toString() })) });
      targets.set(topic, stop);
      for (const [p, end] of stop) total += end > start.get(p)! ? end - start.get(p)! : 0n;
    }
    progress(`replaying ${total} records of ${[...targets.keys()].join(', ')} into ${o.database}`);
    if (total === 0n) return { records: 0n, groupId };

    const group = new ProcessGroup(mkdtempSync(join(tmpdir(), 'heapstream-replay-')));
    group.start({
      name: 'storage-writer',
      entry: 'services/storage-writer/src/main.ts',
      port: 0,
      env: {
        KAFKA_BROKERS: o.brokers,
        INFLUX_URL: o.influxUrl,
        INFLUX_DATABASE: o.database,
        HEAPSTREAM_TOPIC_PREFIX: o.topicPrefix,
        HEAPSTREAM_GROUP_ID: groupId,
        HEAPSTREAM_INPUTS: o.inputs.join(','),
        HEAPSTREAM_ENSURE_TOPICS: 'false',
        ...(o.schema ? { HEAPSTREAM_STORAGE_SCHEMA: o.schema } : {}),
        ...o.writerEnv,
      },
    });
    try {
      let last = '';
      await waitFor(
        'replay',
        async () => {
          const committed = await admin.fetchOffsets({ groupId, topics: [...targets.keys()] });
          let behind = 0n;
          for (const { topic, partitions } of committed) {
            for (const p of partitions) {
              const target = targets.get(topic)?.get(p.partition) ?? 0n;
              const at = BigInt(p.offset) < 0n ? 0n : BigInt(p.offset);
              if (at < target) behind += target - at;
            }
          }
          const line = `${total - behind}/${total} records written`;
          if (line !== last) progress((last = line));
          return behind === 0n;
        },
        { timeoutMs: 24 * 3600_000, intervalMs: 1000, alive: () => group.isAlive('storage-writer') },
      );
    } finally {
      await group.stopAll();
    }
  } finally {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
  }
  return { records: total, groupId };
}

export function registerReplayCommand(program: Command): void {
  program
    .command('replay')
    .description('re-read the metric, rollup and event topics and rewrite InfluxDB (a new database, or after a fix); idempotent')
    .requiredOption('--from <position>', 'ISO time, epoch ms, offset:N or end')
    .option('--to <position>', 'ISO time, epoch ms, offset:N or end', 'end')
    .option('--database <db>', 'InfluxDB database to write (created with its retention policies)', process.env.INFLUX_DATABASE ?? 'k8s')
    .option('--inputs <list>', `which streams: ${Object.keys(REPLAY_INPUTS).join(',')}`, Object.keys(REPLAY_INPUTS).join(','))
    .option('--schema <layout>', 'heapster | wide (HEAPSTREAM_STORAGE_SCHEMA)')
    .option('--brokers <list>', 'Kafka', process.env.KAFKA_BROKERS ?? '127.0.0.1:19092')
    .option('--influx-url <url>', 'InfluxDB', process.env.INFLUX_URL ?? 'http://127.0.0.1:18086')
    .option('--topic-prefix <prefix>', 'HEAPSTREAM_TOPIC_PREFIX', process.env.HEAPSTREAM_TOPIC_PREFIX ?? '')
    .action(async (o: { from: string; to: string; database: string; inputs: string; schema?: string; brokers: string; influxUrl: string; topicPrefix: string }) => {
      const inputs = o.inputs.split(',').map((s) => s.trim());
      const unknown = inputs.filter((i) => !(i in REPLAY_INPUTS));
      if (unknown.length) throw new Error(`--inputs: unknown ${unknown.join(', ')} (one of ${Object.keys(REPLAY_INPUTS).join(', ')})`);
      const { records } = await replay({
        brokers: o.brokers,
        influxUrl: o.influxUrl,
        database: o.database,
        topicPrefix: o.topicPrefix,
        inputs: inputs as ReplayInput[],
        from: parsePosition(o.from, '--from'),
        to: parsePosition(o.to, '--to'),
        ...(o.schema ? { schema: o.schema } : {}),
        progress: (l) => console.error(`[replay] ${l}`),
      });
      console.log(`replayed ${records} records into ${o.database}`);
    });
}
