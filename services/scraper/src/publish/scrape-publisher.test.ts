import type { Producer, ProducerRecord } from 'kafkajs';
import { CompressionTypes } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { rawScrapeCodec, type RawScrape } from '@heapstream/contracts';
import { maxSendBytesFor, ScrapePublisher } from './scrape-publisher.js';

const scrape = (node: string): RawScrape => ({
  schemaVersion: rawScrapeCodec.version,
  cluster: 'c',
  node,
  scrape: { startedAt: 1, finishedAt: 2 },
  nodeStats: { systemContainers: [] },
  pods: [],
});

/** A producer whose sends resolve only when the test says so. */
function heldProducer() {
  const sends: { record: ProducerRecord; ack: () => void }[] = [];
  const producer = {
    send: (record: ProducerRecord) => new Promise((resolve) => sends.push({ record, ack: () => resolve([]) })),
  } as unknown as Producer;
  return { producer, sends };
}

const slot = () => {
  const s = { released: 0, release: () => void s.released++ };
  return s;
};

describe('ScrapePublisher', () => {
  it('gives the slot back once the record is queued, and resolves on the acknowledgement', async () => {
    const { producer, sends } = heldProducer();
    const publisher = new ScrapePublisher(producer, { topic: 't', compression: CompressionTypes.None, maxRecordBytes: 1 << 20, lingerMs: 1 });
    const s = slot();
    let acked = false;
    const done = publisher.publish(scrape('n1'), s).then(() => (acked = true));
    expect(s.released).toBe(1);
    expect(publisher.backlogBytes).toBe(rawScrapeCodec.encode(scrape('n1')).length);
    await new Promise((r) => setTimeout(r, 10));
    expect(sends).toHaveLength(1);
    expect(sends[0]!.record.messages[0]!.key).toBe('n1');
    expect(acked).toBe(false);
    sends[0]!.ack();
    await done;
    expect(publisher.backlogBytes).toBe(0);
  });

  it('keeps slots while the unacknowledged backlog is over its limit', async () => {
    const { producer, sends } = heldProducer();
    const size = rawScrapeCodec.encode(scrape('n1')).length;
    const publisher = new ScrapePublisher(producer, { topic: 't', compression: CompressionTypes.None, maxRecordBytes: 1 << 20, lingerMs: 1, maxBacklogBytes: 2 * size });
    const slots = [slot(), slot(), slot()];
    const done = slots.map((s, i) => publisher.publish(scrape(`n${i + 1}`), s));
    expect(slots.map((s) => s.released)).toEqual([1, 1, 0]);
    await new Promise((r) => setTimeout(r, 10));
    for (const s of sends) s.ack();
    await Promise.all(done);
    expect(publisher.backlogBytes).toBe(0);
  });

  it('cuts what it gathered into calls under the broker batch limit', async () => {
    const { producer, sends } = heldProducer();
    const size = rawScrapeCodec.encode(scrape('n1')).length;
    const publisher = new ScrapePublisher(producer, { topic: 't', compression: CompressionTypes.None, maxRecordBytes: 1 << 20, lingerMs: 1, maxSendBytes: 2 * size + 1 });
    const done = ['n1', 'n2', 'n3', 'n4', 'n5'].map((n) => publisher.publish(scrape(n)));
    // A record that would take the gathered call over the limit sends it first.
    await new Promise((r) => setTimeout(r, 10));
    expect(sends.map((s) => s.record.messages.map((m) => m.key))).toEqual([['n1', 'n2'], ['n3', 'n4'], ['n5']]);
    for (const s of sends) s.ack();
    await Promise.all(done);
    expect(maxSendBytesFor(CompressionTypes.None)).toBe(1024 * 1024);
    expect(maxSendBytesFor(CompressionTypes.GZIP)).toBe(4 * 1024 * 1024);
  });
});
