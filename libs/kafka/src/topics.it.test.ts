import { describe, expect, it } from 'vitest';
import { testKafka, uniqueName } from '@heapstream/testing';
import { readPartitionRange } from './read-range.js';
import { ensureTopics, timestampType } from './topics.js';

describe('topics with broker time (a skewed producer clock does not decide record times)', () => {
  const kafka = testKafka('topics-it');

  it('stamps records of a logAppendTime topic with the broker clock, and a plain topic keeps the producer time', async () => {
    const stamped = uniqueName('broker-time');
    const plain = uniqueName('create-time');
    await ensureTopics(kafka, [
      { name: stamped, partitions: 1, logAppendTime: true },
      { name: plain, partitions: 1 },
    ]);
    expect(await timestampType(kafka, stamped)).toBe('LogAppendTime');
    expect(await timestampType(kafka, plain)).toBe('CreateTime');

    // A producer whose clock is an hour fast.
    const skewed = String(Date.now() + 3_600_000);
    const producer = kafka.producer();
    await producer.connect();
    const sentAt = Date.now();
    for (const topic of [stamped, plain]) await producer.send({ topic, messages: [{ value: 'x', timestamp: skewed }] });
    await producer.disconnect();

    const timeOf = async (topic: string) => {
      const times: number[] = [];
      await readPartitionRange(kafka, topic, 0, 0n, 1n, (m) => times.push(Number(m.timestamp)));
      return times;
    };
    const [brokerTime] = await timeOf(stamped);
    expect(Math.abs(brokerTime! - sentAt)).toBeLessThan(60_000);
    expect(await timeOf(plain)).toEqual([Number(skewed)]);
  });
});
