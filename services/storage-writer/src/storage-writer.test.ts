import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { encodeEventRecord, metricPointBatchCodec, type EventRecord, type MetricPointBatch } from '@heapstream/contracts';
import { eventMeasurements, routesOf, storageWriterConfigSchema } from './config.js';
import { encodeMessages, type EncodeOptions } from './encode.js';
import { eventTimestampNs, eventToLines } from './event-lines.js';
import { lagKeepsGrowing } from '@heapstream/kafka';

const event: EventRecord = {
  schemaVersion: '1.0',
  id: 'uid-1:2',
  cluster: 'prod',
  occurrence: 2,
  occurrenceCount: 2,
  inferred: false,
  occurredAt: 1_700_000_000_000,
  observedAt: 1_700_000_000_500,
  event: { uid: 'uid-1', namespace: 'web', name: 'api-7.17a', sourceApi: 'v1', type: 'Warning', reason: 'BackOff', message: 'Back-off "restarting" failed, container', reportingController: 'kubelet', sourceHost: 'node a', count: 2 },
  involvedObject: { kind: 'Pod', namespace: 'web', name: 'api-7', uid: 'pod-uid' },
};

const message = (value: Buffer | string | null, headers: Record<string, string> = {}): KafkaMessage =>
  ({ key: Buffer.from('k'), value: typeof value === 'string' ? Buffer.from(value) : value, headers, offset: '0', timestamp: '0', attributes: 0 }) as KafkaMessage;

const options: EncodeOptions = { schema: 'heapster', time: 'cycle', keepTags: [], clusterName: 'default', eventMeasurements: ['events'] };

describe('event lines', () => {
  it('maps an occurrence to `events` (withfields layout) with a stable time inside its precision, never shared by two occurrences of one Event', () => {
    const ts = eventTimestampNs(event);
    // A whole-second time spreads within its second; a millisecond one within its millisecond.
    expect(ts / 1_000_000_000n).toBe(1_700_000_000n);
    expect(eventTimestampNs({ ...event, occurredAt: 1_700_000_000_123 }) / 1_000_000n).toBe(1_700_000_000_123n);
    expect(eventTimestampNs({ ...event })).toBe(ts);
    const occurrences = new Set(Array.from({ length: 10_000 }, (_, i) => eventTimestampNs({ ...event, occurrence: i + 1 })));
    expect(occurrences.size).toBe(10_000);
    expect(eventToLines(event, { measurements: ['events'], clusterName: 'x' })).toEqual([
      `events,cluster_name=prod,component=kubelet,hostname=node\\ a,kind=Pod,namespace_name=web,object_name=api-7,reason=BackOff,type=Warning message="Back-off \\"restarting\\" failed, container",count=2i,occurrence=2i,observed_at=${event.observedAt}i,uid="uid-1" ${ts}`,
    ]);
  });

  it("writes Heapster's log/events with the core/v1 Event as JSON, and keeps uid as a tag when asked", () => {
    const [line] = eventToLines(event, { measurements: ['log/events'], clusterName: 'x', keepTags: ['uid'] });
    expect(line).toMatch(/^log\/events,cluster_name=prod,hostname=node\\ a,pod_name=api-7,uid=uid-1 value="\{/);
  });
});

describe('encodeMessages', () => {
  it('encodes good records, remembers which record each line came from, and rejects the rest with a reason', () => {
    const batch: Omit<MetricPointBatch, 'schemaVersion'> = { cluster: 'c1', resolution: 'native', producedAt: 1, points: [
      { metric: 'memory/usage', entityType: 'node', tags: { nodename: 'n1', hostname: 'n1.example' }, timestamp: 1000, value: 5 },
      { metric: 'memory/usage', entityType: 'node', tags: { nodename: 'n1' }, timestamp: 2000, value: 5.5 },
      { metric: 'no/such', entityType: 'node', tags: { nodename: 'n1' }, timestamp: 1000, value: 1 },
    ] };
    const out = encodeMessages(
      [
        message('{bad'),
        message(metricPointBatchCodec.encode(batch), metricPointBatchCodec.headers()),
        message(null),
        message(metricPointBatchCodec.encode({ ...batch, resolution: '1m' })),
        message(JSON.stringify({ ...batch, schemaVersion: '3.1' })),
      ],
      { kind: 'metrics', tier: 'raw', resolution: 'native' },
      options,
    );
    expect(out.lines).toEqual(['memory/usage,cluster_name=c1,nodename=n1,type=node value=5i 1000000000']);
    expect(out.lineOwner).toEqual([1]);
    expect(out.rejections.map((r) => [r.message, r.reason])).toEqual([
      [0, 'decode:invalid-json'],
      [1, 'encode:not-an-integer'],
      [2, 'decode:empty'],
      [3, 'decode:wrong-resolution'],
      [4, 'decode:unsupported-version'],
    ]);
    expect(out.rejections[1]!.error).toContain('2 of 3 points');
  });

  it("stamps native points with their batch's cycle start (HEAPSTREAM_STORAGE_TIME=cycle), so one entity's blocks share a row", () => {
    const tags = { nodename: 'n1' };
    const batch: Omit<MetricPointBatch, 'schemaVersion'> = { cluster: 'c1', resolution: 'native', producedAt: 17_500, cycle: 15_000, points: [
      { metric: 'memory/usage', entityType: 'node', tags, timestamp: 16_000, value: 5 },
      { metric: 'cpu/usage_rate', entityType: 'node', tags, timestamp: 14_000, value: 2.5 },
    ] };
    const encode = (o: EncodeOptions, b = batch) => encodeMessages([message(metricPointBatchCodec.encode(b), metricPointBatchCodec.headers())], { kind: 'metrics', tier: 'raw', resolution: b.resolution }, o).lines;
    expect(encode({ ...options, schema: 'wide' })).toEqual(['memory,cluster_name=c1,nodename=n1,type=node usage=5i 15000000000', 'cpu,cluster_name=c1,nodename=n1,type=node usage_rate=2.5 15000000000']);
    expect(encode({ ...options, time: 'sample' })).toEqual(['memory/usage,cluster_name=c1,nodename=n1,type=node value=5i 16000000000', 'cpu/usage_rate,cluster_name=c1,nodename=n1,type=node value=2.5 14000000000']);
    // A batch from before 2.1 has no cycle: its points keep their own times.
    expect(encode(options, { ...batch, cycle: undefined })).toEqual(encode({ ...options, time: 'sample' }));
    // Windows are stamped with their start, never a cycle.
    const window = { start: 0, end: 60_000, min: 5, max: 5, sum: 5, count: 1, last: 5 };
    expect(encode(options, { ...batch, resolution: '1m', points: [{ ...batch.points[0]!, timestamp: 0, window }] })[0]).toMatch(/ 0$/);
  });

  it('encodes in slices: stops after the record that reaches maxLines and says where to go on', () => {
    const e = encodeEventRecord(event);
    const msgs = Array.from({ length: 5 }, () => message(e.value, e.headers));
    const both: EncodeOptions = { ...options, eventMeasurements: ['events', 'log/events'] };
    const first = encodeMessages(msgs, { kind: 'events', tier: 'raw' }, both, 0, 3);
    expect([first.lines.length, first.next, first.lineOwner]).toEqual([4, 2, [0, 0, 1, 1]]);
    const rest = encodeMessages(msgs, { kind: 'events', tier: 'raw' }, both, first.next, 3);
    expect([rest.lines.length, rest.next, rest.lineOwner]).toEqual([4, 4, [2, 2, 3, 3]]);
    expect(encodeMessages(msgs, { kind: 'events', tier: 'raw' }, both, 4, 3).next).toBe(5);
  });

  it('decodes event records and rejects invalid ones', () => {
    const e = encodeEventRecord(event);
    const out = encodeMessages([message(e.value, e.headers), message('{"schemaVersion":"1.0"}')], { kind: 'events', tier: 'raw' }, options);
    expect(out.lines).toHaveLength(1);
    expect(out.rejections).toEqual([{ message: 1, reason: 'decode:invalid-record', error: expect.any(String) }]);
  });
});

describe('config', () => {
  it('prefixes contracts topic names and routes each to its tier', () => {
    const c = storageWriterConfigSchema.parse({ KAFKA_BROKERS: '127.0.0.1:9092', INFLUX_URL: 'http://127.0.0.1:8086', HEAPSTREAM_TOPIC_PREFIX: 't1.', HEAPSTREAM_INPUTS: 'metrics,rollup1h' });
    expect([...routesOf(c)]).toEqual([
      ['t1.heapstream.metrics.v2', { kind: 'metrics', tier: 'raw', resolution: 'native' }],
      ['t1.heapstream.metrics.rollup.1h.v2', { kind: 'metrics', tier: '1h', resolution: '1h' }],
    ]);
    expect(c.INFLUX_DATABASE).toBe('k8s');
    // The default layout is wide, whose events measurement is Heapster's withfields `events`.
    expect([c.HEAPSTREAM_STORAGE_SCHEMA, eventMeasurements(c)]).toEqual(['wide', ['events']]);
    expect(eventMeasurements({ ...c, HEAPSTREAM_STORAGE_SCHEMA: 'heapster' })).toEqual(['log/events']);
    expect(storageWriterConfigSchema.safeParse({ KAFKA_BROKERS: '127.0.0.1:9092', INFLUX_URL: 'x' }).success).toBe(false);
  });

  it('calls lag growing only after n rising samples', () => {
    expect(lagKeepsGrowing([1, 2, 3], 3)).toBe(true);
    expect(lagKeepsGrowing([1, 2, 2], 3)).toBe(false);
    expect(lagKeepsGrowing([5, 6], 3)).toBe(false);
  });
});
