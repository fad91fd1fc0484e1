import { describe, expect, it } from 'vitest';
import { createTopics, testKafka, uniqueName } from '@heapstream/testing';
import { readPartitionRanges } from './read-range.js';

describe('readPartitionRanges against Kafka', () => {
  const kafka = testKafka('read-range-it');

  it('hands over exactly the committed records of each range, once and in order, aborted ones and markers skipped', async () => {
    const topic = uniqueName('read-range');
    await createTopics(kafka, [{ topic, numPartitions: 3 }]);
    // Partition 0: plain records v0..v19 at offsets 0..19.
    const plain = kafka.producer();
    await plain.connect();
    await plain.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ partition: 0, value: `v${i}` })) });
    // Partition 2: records outside every range.
    await plain.send({ topic, messages: Array.from({ length: 5 }, (_, i) => ({ partition: 2, value: `other${i}` })) });
    await plain.disconnect();
    // Partition 1: transactions, committed, aborted, committed: each leaves a marker that takes an offset.
    const txnal = kafka.producer({ transactionalId: uniqueName('read-range-txn'), idempotent: true, maxInFlightRequests: 1 });
    await txnal.connect();
    for (const [values, commit] of [[['a', 'b'], true], [['x', 'y'], false], [['c'], true]] as const) {
      const txn = await txnal.transaction();
      await txn.send({ topic, messages: values.map((value) => ({ partition: 1, value })) });
      if (commit) await txn.commit();
      else await txn.abort();
    }
    await txnal.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
    const end1 = BigInt(ends.find((e) => e.partition === 1)!.high);
    expect(end1).toBe(8n); // a b marker x y marker c marker

    // The seek must take effect: a partition that started at its end would bring nothing and never finish.
    const got: string[] = [];
    const read = await readPartitionRanges(kafka, topic, [{ partition: 0, from: 5n, to: 15n }, { partition: 1, from: 0n, to: end1 }], (partition, m) => got.push(`${partition}:${m.offset}:${m.value?.toString()}`));

    const expected = [...Array.from({ length: 10 }, (_, i) => `0:${i + 5}:v${i + 5}`), '1:0:a', '1:1:b', '1:6:c'];
    expect(read).toBe(expected.length);
    expect(got.filter((g) => g.startsWith('0:'))).toEqual(expected.filter((g) => g.startsWith('0:')));
    expect(got.filter((g) => g.startsWith('1:'))).toEqual(expected.filter((g) => g.startsWith('1:')));
    expect(got.filter((g) => g.startsWith('2:'))).toEqual([]);
  });

  it('reads nothing for empty ranges', async () => {
    const topic = uniqueName('read-range-empty');
    await createTopics(kafka, [{ topic }]);
    expect(await readPartitionRanges(kafka, topic, [{ partition: 0, from: 3n, to: 3n }], () => undefined)).toBe(0);
  });

  it('reports the part of a range that retention deleted and reads the rest, instead of skipping it all', async () => {
    const topic = uniqueName('read-range-deleted');
    await createTopics(kafka, [{ topic }]);
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic, messages: Array.from({ length: 20 }, (_, i) => ({ value: `v${i}` })) });
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [topic] }); // kafkajs finds the leaders from it
    await admin.deleteTopicRecords({ topic, partitions: [{ partition: 0, offset: '10' }] }).finally(() => admin.disconnect());

    const got: string[] = [];
    const lost: string[] = [];
    const onLost = (r: { partition: number; from: bigint; to: bigint }) => lost.push(`${r.partition}:${r.from}-${r.to}`);
    const read = await readPartitionRanges(kafka, topic, [{ partition: 0, from: 5n, to: 15n }], (_, m) => got.push(m.value!.toString()), onLost);
    expect(lost).toEqual(['0:5-10']);
    expect(read).toBe(5);
    expect(got).toEqual(['v10', 'v11', 'v12', 'v13', 'v14']);
    // A range wholly deleted: all of it reported, nothing read.
    expect(await readPartitionRanges(kafka, topic, [{ partition: 0, from: 2n, to: 8n }], () => undefined, onLost)).toBe(0);
    expect(lost).toEqual(['0:5-10', '0:2-8']);
  });
});
