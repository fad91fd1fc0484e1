import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { Kafka, logLevel } from 'kafkajs';
// Registers the zstd codec (and the gzip one) with kafkajs, so zstd topics can be tailed.
import '@heapstream/kafka';
import { matches, matchesOne, parseFilters, STREAMS } from './streams.js';
import { wholeNumber } from './options.js';

export interface TailOptions {
  brokers: string;
  topicPrefix: string;
  fromBeginning: boolean;
  filter: string[];
  json: boolean;
  limit?: number;
  /** Stop after this long without a record (tests and scripts); runs until Ctrl-C otherwise. */
  idleExitMs?: number;
}

/**
 * Prints decoded records of one stream. Reads with a throwaway consumer group that
 * never commits, so tailing never disturbs the pipeline's own offsets.
 */
export async function tail(streamName: string, opts: TailOptions, write: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): Promise<number> {
  const stream = STREAMS[streamName];
  if (!stream) throw new Error(`unknown stream "${streamName}"; one of: ${Object.keys(STREAMS).join(', ')}`);
  const filters = parseFilters(opts.filter);
  const topic = opts.topicPrefix + stream.topic;
  const kafka = new Kafka({ clientId: 'heapstream-tail', brokers: opts.brokers.split(','), logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `heapstream-tail-${randomUUID()}` });
  let printed = 0;
  let lastAt = Date.now();
  await consumer.connect();
  let finish!: () => void;
  const finished = new Promise<void>((r) => (finish = r));
  try {
    await consumer.subscribe({ topic, fromBeginning: opts.fromBeginning });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ message, partition }) => {
        lastAt = Date.now();
        if (opts.limit !== undefined && printed >= opts.limit) return;
        const decoded = stream.decode(message.value ?? Buffer.alloc(0));
        if (!decoded.ok) {
          write(opts.json ? JSON.stringify({ partition, offset: message.offset, error: decoded.error }) : `! ${topic}/${partition}@${message.offset}: ${decoded.error}`);
          printed++;
        } else if (opts.json) {
          // The contract is the record: printed whole when any of its points matches.
          if (!matches(stream.fields(decoded.value), filters)) return;
          write(JSON.stringify(decoded.value));
          printed++;
        } else {
          // Lines: only the points that match, each counted against --limit.
          const fields = stream.fields(decoded.value);
          const lines = stream.lines(decoded.value);
          for (let i = 0; i < lines.length && (opts.limit === undefined || printed < opts.limit); i++) {
            if (!matchesOne(fields[i] ?? {}, filters)) continue;
            write(lines[i]!);
            printed++;
          }
        }
        if (opts.limit !== undefined && printed >= opts.limit) finish();
      },
    });
    const idle = opts.idleExitMs
      ? setInterval(() => {
          if (Date.now() - lastAt > opts.idleExitMs!) finish();
        }, 100)
      : undefined;
    process.once('SIGINT', finish);
    await finished;
    clearInterval(idle);
    process.off('SIGINT', finish);
  } finally {
    await consumer.disconnect();
  }
  return printed;
}

export function registerTailCommand(program: Command): void {
  program
    .command('tail')
    .description(`decoded records of a stream as readable lines or JSON (${Object.keys(STREAMS).join(', ')})`)
    .argument('<stream>', Object.keys(STREAMS).join(' | '))
    .option('--from-beginning', 'start at the oldest retained record instead of new ones', false)
    .option('--filter <key=value>', 'only records with this field, e.g. node=n1, namespace=default, reason=BackOff (repeatable)', (v: string, all: string[]) => [...all, v], [] as string[])
    .option('--json', 'one JSON record per line (the topic contract), for piping into jq', false)
    .option('-n, --limit <count>', 'stop after this many lines (with --json: records)', wholeNumber(1))
    .option('--brokers <list>', 'Kafka bootstrap servers', process.env.KAFKA_BROKERS ?? '127.0.0.1:19092')
    .option('--topic-prefix <prefix>', 'prefix of the topic names (HEAPSTREAM_TOPIC_PREFIX)', process.env.HEAPSTREAM_TOPIC_PREFIX ?? '')
    .action(async (stream: string, o: { fromBeginning: boolean; filter: string[]; json: boolean; limit?: number; brokers: string; topicPrefix: string }) => {
      await tail(stream, { ...o });
    });
}
