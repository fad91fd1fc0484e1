import { describe, expect, it } from 'vitest';
import { deadLetterCodec, metricPointBatchCodec, rawScrapeCodec } from './codecs.js';
import { DecodeError } from './codec.js';
import { fromPayload, toPayload } from './dead-letter.js';
import type { RawScrape } from './raw-scrape.js';
import { SCHEMA_VERSION_HEADER } from './version.js';

const scrape: RawScrape = {
  schemaVersion: '1.0',
  cluster: 'c1',
  node: 'n1',
  scrape: { startedAt: 1000, finishedAt: 1100 },
  nodeStats: {
    startTime: 0,
    cpu: { time: 1000, usageCoreNanoSeconds: 774129887054161, usageNanoCores: 0 },
    systemContainers: [],
  },
  pods: [
    {
      namespace: 'ns',
      name: 'p',
      uid: 'u',
      containers: [{ name: 'c', cpu: { time: 1000, usageCoreNanoSeconds: 5 } }],
      volumes: [{ name: 'v', time: 900 }],
    },
  ],
};

describe('codec', () => {
  it('round-trips and keeps absent fields absent and zeros zero', () => {
    const bytes = rawScrapeCodec.encode(scrape);
    const r = rawScrapeCodec.decode(bytes, rawScrapeCodec.headers());
    expect(r).toEqual({ ok: true, value: scrape });
    if (!r.ok) return;
    expect(r.value.nodeStats.cpu?.usageNanoCores).toBe(0);
    expect('memory' in r.value.nodeStats).toBe(false);
    expect(Object.keys(r.value.pods[0]!.volumes![0]!).sort()).toEqual(['name', 'time']);
  });

  it('stamps the current schema version on encode', () => {
    const { schemaVersion: _, ...rest } = scrape;
    expect(JSON.parse(rawScrapeCodec.encode(rest).toString()).schemaVersion).toBe(rawScrapeCodec.version);
  });

  it.each([
    [null, 'empty'],
    ['', 'empty'],
    ['{"schemaVersion":"1.0",', 'invalid-json'],
    ['[1]', 'not-an-object'],
    ['42', 'not-an-object'],
    ['{"cluster":"c"}', 'missing-version'],
    ['{"schemaVersion":"2.0"}', 'unsupported-version'],
    ['{"schemaVersion":"one"}', 'unsupported-version'],
    ['{"schemaVersion":"1.3","cluster":"c"}', 'invalid-record'],
  ])('rejects %j with reason %s', (input, reason) => {
    const r = rawScrapeCodec.decode(input);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error).toBeInstanceOf(DecodeError);
    expect(r.error.reason).toBe(reason);
  });

  it('rejects an unknown major in the header before parsing', () => {
    const r = rawScrapeCodec.decode('not json', { [SCHEMA_VERSION_HEADER]: Buffer.from('2.1') });
    expect(!r.ok && r.error.reason).toBe('unsupported-version');
    expect(!r.ok && r.error.message).toMatch(/major 2.*reads major 1/);
  });

  it('accepts a newer minor with unknown fields', () => {
    const json = JSON.stringify({ ...scrape, schemaVersion: '1.7', futureField: { x: 1 } });
    expect(rawScrapeCodec.decode(json).ok).toBe(true);
  });

  it('names the bad path in invalid records', () => {
    const bad = { ...scrape, pods: [{ ...scrape.pods[0], containers: [{ name: 'c', cpu: { usageCoreNanoSeconds: -1 } }] }] };
    const r = rawScrapeCodec.decode(JSON.stringify(bad));
    expect(!r.ok && r.error.issues[0]?.path).toBe('pods.0.containers.0.cpu.usageCoreNanoSeconds');
  });

  it('validates metric point batches', () => {
    const batch = {
      cluster: 'c',
      resolution: 'native' as const,
      producedAt: 5,
      points: [{ metric: 'cpu/usage', entityType: 'node' as const, tags: { nodename: 'n' }, timestamp: 1, value: 2, startTime: 0 }],
    };
    expect(metricPointBatchCodec.decode(metricPointBatchCodec.encode(batch)).ok).toBe(true);
    const bad = { ...batch, points: [{ ...batch.points[0], entityType: 'galaxy' }] };
    expect(metricPointBatchCodec.decode(JSON.stringify({ ...bad, schemaVersion: '1.0' })).ok).toBe(false);
  });
});

describe('dead letter payloads', () => {
  it('keeps UTF-8 as text and other bytes as base64, losslessly', () => {
    const bin = Buffer.from([0xff, 0x00, 0xfe]);
    expect(toPayload(Buffer.from('héllo'))).toEqual({ encoding: 'utf8', data: 'héllo' });
    expect(toPayload(bin)?.encoding).toBe('base64');
    expect(fromPayload(toPayload(bin))).toEqual(bin);
    expect(toPayload(null)).toBeNull();
    const dl = deadLetterCodec.encode({
      source: { topic: 't', partition: 0, offset: '42' },
      key: toPayload(Buffer.from('n1')),
      value: toPayload(bin),
      reason: 'decode:invalid-json',
      error: 'Unexpected token',
      time: 1,
      service: 'storage-writer',
    });
    expect(deadLetterCodec.decode(dl).ok).toBe(true);
  });
});
