import { randomUUID } from 'node:crypto';
import type { Kafka, Message } from 'kafkajs';

/**
 * A key → value map kept in a compacted topic: `load` reads the topic to its end
 * (latest value per key wins, empty value deletes), `put` appends. Used for
 * checkpoints (watch position, rate state) so a restart needs no disk.
 */
export class CompactedStore {
  constructor(private readonly kafka: Kafka, private readonly topic: string) {}

  /** Reads every partition from the beginning up to the end offsets seen at the start. */
  async load(filter?: (partition: number) => boolean): Promise<Map<string, Buffer>> {
    const admin = this.kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(this.topic).finally(() => admin.disconnect());
    const pending = new Map(ends.filter((e) => (!filter || filter(e.partition)) && BigInt(e.high) > BigInt(e.low)).map((e) => [e.partition, BigInt(e.high)]));
    const state = new Map<string, Buffer>();
    if (pending.size === 0) return state;
    // A throwaway group that never commits: we only want to read, not to own partitions.
    const consumer = this.kafka.consumer({ groupId: `heapstream-restore-${randomUUID()}`, sessionTimeout: 30_000 });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic: this.topic, fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        // Done per partition when a processed batch reaches the end offset. Batches that hold
        // only transaction markers never reach eachBatch, but they do emit END_BATCH_PROCESS.
        consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
          const end = pending.get(payload.partition);
          if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) pending.delete(payload.partition);
          if (pending.size === 0) resolve();
        });
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              const end = pending.get(batch.partition);
              if (end === undefined) return;
              for (const m of batch.messages) {
                if (BigInt(m.offset) >= end) break;
                const key = m.key?.toString();
                if (key === undefined) continue;
                if (m.value === null || m.value.length === 0) state.delete(key);
                else state.set(key, m.value);
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return state;
  }

  /** Appends entries through a producer or an open transaction (anything that can send). */
  async put(sender: { send(record: { topic: string; messages: Message[] }): Promise<unknown> }, entries: { key: string; value: Buffer | null; partition?: number }[]): Promise<void> {
    if (entries.length === 0) return;
    await sender.send({ topic: this.topic, messages: entries.map((e) => ({ key: e.key, value: e.value, ...(e.partition !== undefined ? { partition: e.partition } : {}) })) });
  }
}
