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
 *
 * Offsets below a partition's log start (deleted by retention) cannot be read: the part
 * of a range below it is handed to `onLost` (if given) and the rest is read, instead of
 * the consumer quietly resetting to the end and skipping all of it.
 */
export async function readPartitionRanges(
  kafka: Kafka,
  topic: string,
  ranges: readonly PartitionRange[],
  onMessage: (partition: number, m: KafkaMessage) => void,
  onLost?: (lost: PartitionRange) => void,
): Promise<number> {
  const wanted = ranges.filter((r) => r.to > r.from);
  if (wanted.length === 0) return 0;
  const starts = await logStarts(kafka, topic);
  const readable: PartitionRange[] = [];
  for (const r of wanted) {
    const start = starts.get(r.partition) ?? 0n;
    if (r.from < start) onLost?.({ partition: r.partition, from: r.from, to: start < r.to ? start : r.to });
    if (r.to > start) readable.push({ ...r, from: r.from < start ? start : r.from });
  }
  const pending = new Map(readable.map((r) => [r.partition, r]));
  if (pending.size === 0) return 0;
  /** Per partition, the next offset wanted: every record is handed over once, in order, even if one is fetched twice. */
  const next = new Map([...pending].map(([partition, r]) => [partition, r.from]));
  // A throwaway group of one member. Its position is set when it joins, before its first
  // fetch (kafkajs emits GROUP_JOIN before it starts fetching, and the first fetch applies
  // the seek). kafkajs's admin.setOffsets would cost ~5 s here: it runs a paused consumer
  // until its first (long-polling) fetch.
  const groupId = `heapstream-read-${randomUUID()}`;
  // A short fetch wait: the ranges end at offsets already written, so there is nothing to wait for.
  const consumer = kafka.consumer({ groupId, sessionTimeout: 30_000, readUncommitted: false, maxWaitTimeInMs: 100 });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    for (const [partition, offset] of next) if (pending.has(partition)) consumer.seek({ topic, partition, offset: offset.toString() });
  });
  let read = 0;
  await consumer.connect();
  try {
    // Partitions outside the ranges start at their end and bring nothing (from the
    // beginning, every fetch would also carry up to 1 MiB of each of them).
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
            let at = next.get(batch.partition)!;
            for (const m of batch.messages) {
              const offset = BigInt(m.offset);
              if (offset < at) continue;
              if (offset >= range.to) break;
              read++;
              onMessage(batch.partition, m);
              at = offset + 1n;
            }
            next.set(batch.partition, at);
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

/** The first offset each partition of `topic` still holds. */
async function logStarts(kafka: Kafka, topic: string): Promise<Map<number, bigint>> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    return new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.low)]));
  } finally {
    await admin.disconnect();
  }
}

/** `readPartitionRanges` for one partition. */
export function readPartitionRange(
  kafka: Kafka,
  topic: string,
  partition: number,
  from: bigint,
  to: bigint,
  onMessage: (m: KafkaMessage) => void,
  onLost?: (lost: PartitionRange) => void,
): Promise<number> {
  return readPartitionRanges(kafka, topic, [{ partition, from, to }], (_, m) => onMessage(m), onLost);
}
