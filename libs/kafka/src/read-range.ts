import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

/**
 * Reads the committed records of one partition with offsets in [from, to), in order,
 * outside any consumer group's assignment (a throwaway group that never commits). For
 * rebuilding state from input that was already processed, e.g. the records between a
 * state snapshot and the committed offset. Transaction markers and aborted records are
 * skipped (read_committed), so fewer than `to - from` records may arrive.
 */
export async function readPartitionRange(kafka: Kafka, topic: string, partition: number, from: bigint, to: bigint, onMessage: (m: KafkaMessage) => void): Promise<number> {
  if (to <= from) return 0;
  // A throwaway group whose committed offset is `from`: the consumer starts exactly there
  // (no seek racing the first fetch); other partitions start at their end and bring nothing.
  const groupId = `heapstream-replay-${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId, topic, partitions: [{ partition, offset: from.toString() }] });
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, readUncommitted: false });
  let read = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: false });
    await new Promise<void>((resolve, reject) => {
      // Batches that hold only transaction markers never reach eachBatch, but they do end a batch.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        if (payload.partition === partition && payload.topic === topic && BigInt(payload.lastOffset) + 1n >= to) resolve();
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            if (batch.partition !== partition) return;
            for (const m of batch.messages) {
              const offset = BigInt(m.offset);
              if (offset < from) continue;
              if (offset >= to) break;
              read++;
              onMessage(m);
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
    const cleanup = kafka.admin();
    await cleanup.connect();
    await cleanup.deleteGroups([groupId]).catch(() => undefined);
    await cleanup.disconnect();
  }
  return read;
}
