import type { Kafka, Message } from 'kafkajs';
import { readPartitionRanges } from './read-range.js';

/**
 * A key → value map kept in a compacted topic: `load` reads the topic to its end
 * (latest value per key wins, empty value deletes), `put` appends. Used for
 * checkpoints (watch position, rate state) so a restart needs no disk.
 */
export class CompactedStore {
  constructor(private readonly kafka: Kafka, private readonly topic: string) {}

  /** Reads every partition (or those `filter` accepts) from its start to the end offset seen at the start. */
  async load(filter?: (partition: number) => boolean): Promise<Map<string, Buffer>> {
    const admin = this.kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(this.topic).finally(() => admin.disconnect());
    const ranges = offsets.filter((o) => !filter || filter(o.partition)).map((o) => ({ partition: o.partition, from: BigInt(o.low), to: BigInt(o.high) }));
    const state = new Map<string, Buffer>();
    await readPartitionRanges(this.kafka, this.topic, ranges, (_, m) => {
      const key = m.key?.toString();
      if (key === undefined) return;
      if (m.value === null || m.value.length === 0) state.delete(key);
      else state.set(key, m.value);
    });
    return state;
  }

  /** Appends entries through a producer or an open transaction (anything that can send). */
  async put(sender: { send(record: { topic: string; messages: Message[] }): Promise<unknown> }, entries: { key: string; value: Buffer | null; partition?: number }[]): Promise<void> {
    if (entries.length === 0) return;
    await sender.send({ topic: this.topic, messages: entries.map((e) => ({ key: e.key, value: e.value, ...(e.partition !== undefined ? { partition: e.partition } : {}) })) });
  }
}
