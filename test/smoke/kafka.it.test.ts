import { describe, expect, it } from 'vitest';
import type { Consumer } from 'kafkajs';
import { createTopics, readTopic, testKafka, uniqueName, waitFor } from '@heapstream/testing';

describe('real Kafka with kafkajs', () => {
  const kafka = testKafka();

  it('writes with an idempotent producer and reads the records back in order', async () => {
    const topic = uniqueName('smoke-idem');
    await createTopics(kafka, [{ topic }]);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 50 }, (_, i) => ({ key: 'k', value: String(i) })) });
    await producer.disconnect();
    const got = await readTopic(kafka, topic, (m) => m.length >= 50);
    expect(got.map((m) => m.value.toString())).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
  });

  it('consumes, transforms and produces in one transaction with sendOffsets', async () => {
    const input = uniqueName('smoke-tx-in');
    const output = uniqueName('smoke-tx-out');
    const groupId = uniqueName('smoke-tx-group');
    await createTopics(kafka, [{ topic: input }, { topic: output }]);
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic: input, messages: [1, 2, 3].map((n) => ({ value: String(n) })) });
    await plain.disconnect();

    const producer = kafka.producer({ transactionalId: uniqueName('smoke-tx'), idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    const consumer = kafka.consumer({ groupId, readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topic: input, fromBeginning: true });
    let handled = 0;
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        const tx = await producer.transaction();
        try {
          await tx.send({ topic: output, messages: batch.messages.map((m) => ({ value: String(Number(m.value) * 10) })) });
          const next = (BigInt(batch.lastOffset()) + 1n).toString();
          await tx.sendOffsets({ consumerGroupId: groupId, topics: [{ topic: input, partitions: [{ partition: batch.partition, offset: next }] }] });
          await tx.commit();
        } catch (err) {
          await tx.abort();
          throw err;
        }
        for (const m of batch.messages) resolveOffset(m.offset);
        handled += batch.messages.length;
      },
    });
    await waitFor('transaction', async () => handled >= 3, { timeoutMs: 30_000 });
    await consumer.disconnect();
    await producer.disconnect();

    const out = await readTopic(kafka, output, (m) => m.length >= 3);
    expect(out.map((m) => m.value.toString())).toEqual(['10', '20', '30']);
    const admin = kafka.admin();
    await admin.connect();
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [input] });
    await admin.disconnect();
    expect(offsets?.partitions[0]?.offset).toBe('3');
  });

  it("rebalances a topic's partitions across two consumers of one group", async () => {
    const topic = uniqueName('smoke-group');
    const groupId = uniqueName('smoke-group');
    await createTopics(kafka, [{ topic, numPartitions: 4 }]);
    const assigned = new Map<string, number[]>();
    const start = async (name: string): Promise<Consumer> => {
      const c = kafka.consumer({ groupId, sessionTimeout: 10_000, heartbeatInterval: 500 });
      c.on(c.events.GROUP_JOIN, ({ payload }) => assigned.set(name, payload.memberAssignment[topic] ?? []));
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({ eachMessage: async () => undefined });
      return c;
    };
    const first = await start('a');
    await waitFor('first consumer owns all partitions', async () => assigned.get('a')?.length === 4, { timeoutMs: 30_000 });
    const second = await start('b');
    await waitFor('partitions split across both', async () => (assigned.get('a')?.length ?? 0) > 0 && (assigned.get('b')?.length ?? 0) > 0 && (assigned.get('a')!.length + assigned.get('b')!.length === 4), { timeoutMs: 60_000 });
    expect(new Set([...assigned.get('a')!, ...assigned.get('b')!])).toEqual(new Set([0, 1, 2, 3]));
    await Promise.all([first.disconnect(), second.disconnect()]);
  });
});
