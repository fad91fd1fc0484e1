import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { readPartitionRanges, waitForLeaders } from '@heapstream/kafka';
import pino from 'pino';
// Test-time tools (local servers, child processes, the simulator) reach service tests through
// this module, so production code in services never depends on tools.
export { waitFor, stopServer, restartServer, startPrivateInflux, startPrivateKubeApiserver, ProcessGroup, startLocalPipeline, repoRoot, type LocalPipeline } from '@heapstream/infra';
export { startSimulator, type Simulator } from '@heapstream/sim';

export interface TestEnv {
  KAFKA_BROKERS: string;
  INFLUX_URL: string;
  KUBECONFIG: string;
  ETCD_ENDPOINTS: string;
  HEAPSTREAM_STATE: string;
}

/**
 * Endpoints of the running local servers: from the environment (`./heapstream test`
 * sets it) or from the env file `heapstream infra up` writes.
 */
export function testEnv(): TestEnv {
  const file = join(process.env.HEAPSTREAM_STATE ?? join(process.env.HEAPSTREAM_CACHE ?? join(homedir(), '.cache', 'heapstream'), 'run'), 'env');
  const fromFile = existsSync(file)
    ? Object.fromEntries(readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
    : {};
  const keys = ['KAFKA_BROKERS', 'INFLUX_URL', 'KUBECONFIG', 'ETCD_ENDPOINTS', 'HEAPSTREAM_STATE'] as const;
  const env = Object.fromEntries(keys.map((k) => [k, process.env[k] ?? fromFile[k]])) as Partial<TestEnv>;
  const missing = keys.filter((k) => !env[k]);
  if (missing.length) throw new Error(`integration tests need the local servers (${missing.join(', ')} unset): run ./heapstream infra up, or ./heapstream test`);
  return env as TestEnv;
}

/** A name no other test uses: lowercase, DNS-label safe, valid as topic, group, database and namespace. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`.toLowerCase();
}

export const silentLogger = pino({ level: 'silent' });

export function testKafka(clientId = 'heapstream-test'): Kafka {
  return new Kafka({ clientId, brokers: testEnv().KAFKA_BROKERS.split(','), logLevel: logLevel.NOTHING });
}

/** Creates topics for one test (the broker has auto-create off). */
export async function createTopics(kafka: Kafka, topics: { topic: string; numPartitions?: number; compacted?: boolean }[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: false,
      topics: topics.map((t) => ({
        topic: t.topic,
        numPartitions: t.numPartitions ?? 1,
        replicationFactor: 1,
        configEntries: t.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : [],
      })),
    });
    await waitForLeaders(admin, topics.map((t) => t.topic));
  } finally {
    await admin.disconnect();
  }
}

/** Reads a topic from the beginning until `until` holds for what was read, or times out. */
export async function readTopic(kafka: Kafka, topic: string, until: (messages: { key: string | null; value: Buffer; partition: number; offset: string }[]) => boolean, timeoutMs = 30_000) {
  const consumer = kafka.consumer({ groupId: uniqueName('reader') });
  const messages: { key: string | null; value: Buffer; partition: number; offset: string }[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    eachMessage: async ({ message, partition }) => {
      messages.push({ key: message.key?.toString() ?? null, value: message.value ?? Buffer.alloc(0), partition, offset: message.offset });
      if (until(messages)) done();
    },
  });
  const timer = setTimeout(done, timeoutMs);
  await finished;
  clearTimeout(timer);
  await consumer.disconnect();
  return messages;
}

/**
 * Every committed record of a topic (read_committed), up to the end offsets seen at the
 * start, once per offset: libs/kafka's range reader over each partition's whole range.
 */
export async function readCommitted(kafka: Kafka, topic: string): Promise<{ key: string | null; value: Buffer; partition: number; offset: string }[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const out: { key: string | null; value: Buffer; partition: number; offset: string }[] = [];
  await readPartitionRanges(kafka, topic, ends.map((e) => ({ partition: e.partition, from: BigInt(e.low), to: BigInt(e.high) })), (partition, m) =>
    out.push({ key: m.key?.toString() ?? null, value: m.value ?? Buffer.alloc(0), partition, offset: m.offset }),
  );
  return out;
}
