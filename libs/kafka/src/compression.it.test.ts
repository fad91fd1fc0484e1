import { afterAll, describe, expect, it } from 'vitest';
import { createTopics, readTopic, testKafka, uniqueName } from '@heapstream/testing';
import { compressionOf, configureCompression, type Compression } from './index.js';

const kafka = testKafka();
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });

describe('compressed batches through the real broker', () => {
  afterAll(async () => {
    await producer.disconnect();
    configureCompression({ KAFKA_COMPRESSION: 'gzip' });
  });

  it.each<[Compression, number | undefined]>([
    ['zstd', undefined],
    ['gzip', 1],
  ])('%s (level %s): the broker accepts the batch and a kafkajs consumer reads it back', async (codec, level) => {
    const topic = uniqueName(`compression-${codec}`);
    await createTopics(kafka, [{ topic }]);
    await producer.connect();
    configureCompression({ KAFKA_COMPRESSION: codec, KAFKA_COMPRESSION_LEVEL: level });
    const values = Array.from({ length: 50 }, (_, i) => JSON.stringify({ node: `n-${i}`, usage: i * 1_234_567 }));
    await producer.send({ topic, compression: compressionOf({ KAFKA_COMPRESSION: codec }), messages: values.map((value, i) => ({ key: `n-${i}`, value })) });
    const read = await readTopic(kafka, topic, (m) => m.length >= values.length);
    expect(read.map((m) => m.value.toString())).toEqual(values);
  });
});
