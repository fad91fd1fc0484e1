import { randomUUID } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';

/** Offsets [from, to) of one partition. */
export interface PartitionRange {
  partition: number;
  from: bigint;
  to: bigint;
}

/**
 * Reads the committed records of some partitions with offsets in their [from, to), in
 * order per partition, outside any consumer group's assignment (a throwaway group that
 * is deleted afterwards). For rebuilding state: a compacted topic read to its end, or the
 * input records between a state snapshot and the committed offset. Transaction markers
 * and aborted records are skipped (read_committed), so fewer than `to - from` records
 * may arrive. Returns how many did.
 */
export async function readPartitionRanges(kafka: Kafka, topic: string, ranges: readonly PartitionRange[], onMessage: (partition: number, m: KafkaMessage) => void): Promise<number> {
  const pending = new Map(ranges.filter((r) => r.to > r.from).map((r) => [r.partition, r]));
  if (pending.size === 0) return 0;
  // A throwaway group whose committed offsets are the `from`s: the consumer starts exactly
  // there (no seek racing the first fetch); other partitions start at their end and bring nothing.
  const groupId = `heapstream-read-${randomUUID()}`;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.setOffsets({ groupId, topic, partitions: [...pending.values()].map((r) => ({ partition: r.partition, offset: r.from.toString() })) });
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, readUncommitted: false });
  let read = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: false });
    await new Promise<void>((resolve, reject) => {
      // Done per partition when a processed batch reaches `to`. Batches that hold only
      // transaction markers never reach eachBatch, but they do emit END_BATCH_PROCESS.
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const range = payload.topic === topic ? pending.get(payload.partition) : undefined;
        if (range && BigInt(payload.lastOffset) + 1n >= range.to) pending.delete(payload.partition);
        if (pending.size === 0) resolve();
      });
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const range = pending.get(batch.partition);
            if (!range) return;
            for (const m of batch.messages) {
              const offset = BigInt(m.offset);
              if (offset < range.from) continue;
              if (offset >= range.to) break;
              read++;
              onMessage(batch.partition, m);
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

/** `readPartitionRanges` for one partition. */
export function readPartitionRange(kafka: Kafka, topic: string, partition: number, from: bigint, to: bigint, onMessage: (m: KafkaMessage) => void): Promise<number> {
  return readPartitionRanges(kafka, topic, [{ partition, from, to }], (_, m) => onMessage(m));
}
