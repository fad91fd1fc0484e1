import { setTimeout as sleep } from 'node:timers/promises';
import kafkajs, { type Admin, type Kafka } from 'kafkajs';
import { isRetryableKafkaError } from './errors.js';

/** What a topic must look like; the contracts library owns the instances. */
export interface TopicSpec {
  name: string;
  partitions: number;
  /** Compacted topics keep the last value per key: checkpoints and state. */
  compacted?: boolean;
  retentionMs?: number;
  replicationFactor?: number;
  /**
   * The broker stamps each record with its own clock (`message.timestamp.type=
   * LogAppendTime`) instead of keeping the producer's: for topics whose consumers judge
   * a record's claimed times against when it arrived, which a producer's clock must not
   * decide (a skewed scraper).
   */
  logAppendTime?: boolean;
}

/**
 * Waits until every partition of `topics` has a leader. kafkajs's own `waitForLeaders`
 * gives up on "This server does not host this topic-partition", which a KRaft broker
 * answers for a moment after it created a topic; that is retried here.
 */
export async function waitForLeaders(admin: Admin, topics: string[], timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delayMs = 50; ; delayMs = Math.min(delayMs * 2, 1000)) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      if (meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      if (!isRetryableKafkaError(err) || Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`Kafka topics ${topics.join(', ')} have no leader after ${timeoutMs} ms`);
    await sleep(delayMs);
  }
}

/** Creates missing topics (existing ones are left as they are) and waits for their leaders. Idempotent. */
export async function ensureTopics(kafka: Kafka, specs: TopicSpec[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = specs.filter((s) => !existing.has(s.name));
    if (missing.length === 0) return;
    await admin.createTopics({
      waitForLeaders: false,
      topics: missing.map((s) => ({
        topic: s.name,
        numPartitions: s.partitions,
        replicationFactor: s.replicationFactor ?? -1,
        configEntries: [
          ...(s.compacted ? [{ name: 'cleanup.policy', value: 'compact' }] : []),
          ...(s.retentionMs !== undefined ? [{ name: 'retention.ms', value: String(s.retentionMs) }] : []),
          ...(s.logAppendTime ? [{ name: 'message.timestamp.type', value: 'LogAppendTime' }] : []),
        ],
      })),
    }).catch((err: { type?: string }) => {
      // Another replica created it between our list and create: that is the goal anyway.
      if (err.type !== 'TOPIC_ALREADY_EXISTS') throw err;
    });
    await waitForLeaders(admin, missing.map((s) => s.name));
  } finally {
    await admin.disconnect();
  }
}

/** The topic's `message.timestamp.type` (CreateTime or LogAppendTime); undefined when the broker does not say. */
export async function timestampType(kafka: Kafka, topic: string): Promise<string | undefined> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { resources } = await admin.describeConfigs({ resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: topic, configNames: ['message.timestamp.type'] }], includeSynonyms: false });
    return resources[0]?.configEntries.find((e) => e.configName === 'message.timestamp.type')?.configValue;
  } finally {
    await admin.disconnect();
  }
}

/** How many partitions `topic` has (0 when the metadata lists none). */
export async function partitionCount(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    return meta.topics[0]?.partitions.length ?? 0;
  } finally {
    await admin.disconnect();
  }
}

/** Records between each partition's committed offset of `groupId` and its end. */
export async function consumerLag(kafka: Kafka, groupId: string, topics: string[]): Promise<{ topic: string; partition: number; lag: number }[]> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const committed = await admin.fetchOffsets({ groupId, topics });
    const out: { topic: string; partition: number; lag: number }[] = [];
    for (const { topic, partitions } of committed) {
      const ends = await admin.fetchTopicOffsets(topic);
      for (const p of partitions) {
        const end = Number(ends.find((e) => e.partition === p.partition)?.high ?? 0);
        const at = Number(p.offset) < 0 ? Number(ends.find((e) => e.partition === p.partition)?.low ?? 0) : Number(p.offset);
        out.push({ topic, partition: p.partition, lag: Math.max(0, end - at) });
      }
    }
    return out;
  } finally {
    await admin.disconnect();
  }
}
