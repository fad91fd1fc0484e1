import { describe, expect, it } from 'vitest';
import type { MetricPoint } from '@heapstream/contracts';
import type { OutputRecord } from '../core/processor.js';
import { EventCounter, type EventCounterSettings } from './event-counter.js';
import { occurrence } from './testing.js';

const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 3_600_000); // an hour boundary
const MIN = 60_000;

const settings = (over: Partial<EventCounterSettings> = {}): EventCounterSettings => ({
  producer: 'aggregator',
  windows: [
    { resolution: '1m', sizeMs: MIN },
    { resolution: '1h', sizeMs: 60 * MIN },
  ],
  allowedLatenessMs: 30_000,
  cluster: 'test',
  ...over,
});

const points = (records: OutputRecord[], stream: '1m' | '1h') => records.filter((r) => r.stream === stream).flatMap((r) => r.batch.points);
const sumOf = (ps: MetricPoint[], entityType: string, reason: string, extra: Record<string, string> = {}) =>
  ps.filter((p) => p.entityType === entityType && p.tags.reason === reason && Object.entries(extra).every(([k, v]) => p.tags[k] === v)).map((p) => p.window!.sum);

describe('event-derived counters', () => {
  it('counts occurrences per reason and type for the cluster, each namespace and each workload, per minute', () => {
    const c = new EventCounter(settings());
    c.ingest(occurrence(T0 + 1_000, 'BackOff', { ns: 'a', workload: 'web' }));
    c.ingest(occurrence(T0 + 2_000, 'BackOff', { ns: 'a', workload: 'web' }));
    c.ingest(occurrence(T0 + 3_000, 'BackOff', { ns: 'b' }));
    c.ingest(occurrence(T0 + 4_000, 'NodeNotReady', { type: 'Normal' }));
    c.ingest(occurrence(T0 + 5_000, 'OOMKilled', { ns: 'a', workload: 'db', coalesced: 5 }));
    expect(c.close()).toEqual([]); // the watermark has not passed the window yet

    c.ingest(occurrence(T0 + MIN + 30_000, 'BackOff', { ns: 'a', workload: 'web' })); // closes minute 0
    const m = points(c.close(), '1m');
    expect(sumOf(m, 'cluster', 'BackOff')).toEqual([3]);
    expect(sumOf(m, 'cluster', 'NodeNotReady', { event_type: 'Normal' })).toEqual([1]);
    expect(sumOf(m, 'cluster', 'OOMKilled')).toEqual([5]);
    expect(sumOf(m, 'ns', 'BackOff', { namespace_name: 'a' })).toEqual([2]);
    expect(sumOf(m, 'ns', 'BackOff', { namespace_name: 'b' })).toEqual([1]);
    expect(sumOf(m, 'workload', 'BackOff', { workload_name: 'web', workload_kind: 'Deployment' })).toEqual([2]);
    expect(sumOf(m, 'workload', 'OOMKilled', { workload_name: 'db' })).toEqual([5]);
    // Cluster-scoped events (a Node's) have no namespace entity.
    expect(sumOf(m, 'ns', 'NodeNotReady')).toEqual([]);
    const oom = m.find((p) => p.entityType === 'ns' && p.tags.reason === 'OOMKilled')!;
    expect(oom).toMatchObject({ metric: 'event_occurrences', timestamp: T0, value: 1, window: { start: T0, end: T0 + MIN, min: 1, max: 1, sum: 5, count: 5, last: 1 } });
    expect(points(c.close(), '1m')).toEqual([]); // closed once
  });

  it('keeps the hour open until the hour has passed, with every minute of it', () => {
    const c = new EventCounter(settings());
    for (let i = 0; i < 60; i++) c.ingest(occurrence(T0 + i * MIN, 'BackOff', { ns: 'a' }));
    expect(points(c.close(), '1h')).toEqual([]);
    c.ingest(occurrence(T0 + 61 * MIN, 'BackOff', { ns: 'a' }));
    expect(sumOf(points(c.close(), '1h'), 'ns', 'BackOff')).toEqual([60]);
  });

  it('adds late occurrences within the lateness and drops (and counts) later ones', () => {
    const c = new EventCounter(settings());
    c.ingest(occurrence(T0 + 10_000, 'BackOff', { ns: 'a' }));
    c.ingest(occurrence(T0 + MIN + 20_000, 'BackOff', { ns: 'a' }));
    expect(c.ingest(occurrence(T0 + 50_000, 'BackOff', { ns: 'a' })).late).toBe(0); // minute 0 still open (lateness 30 s)
    c.ingest(occurrence(T0 + MIN + 40_000, 'BackOff', { ns: 'a' }));
    expect(sumOf(points(c.close(), '1m'), 'ns', 'BackOff')).toEqual([2]);
    expect(c.ingest(occurrence(T0 + 55_000, 'BackOff', { ns: 'a' })).late).toBe(1);
  });

  it('counts a repeat in the minute it was observed, however long after its occurrence time', () => {
    const c = new EventCounter(settings());
    c.ingest(occurrence(T0 + MIN + 40_000, 'Started', { ns: 'a' }));
    // A count jump seen 45 s after the (approximate) occurrence time, which is in a closed minute.
    expect(c.ingest(occurrence(T0 + MIN + 50_000, 'BackOff', { ns: 'a', occurredAt: T0 + 5_000 })).late).toBe(0);
    c.ingest(occurrence(T0 + 3 * MIN, 'Started', { ns: 'a' }));
    const m = points(c.close(), '1m');
    expect(m.filter((p) => p.entityType === 'ns').map((p) => [p.tags.reason, p.timestamp, p.window!.sum])).toEqual([
      ['Started', T0 + MIN, 1],
      ['BackOff', T0 + MIN, 1],
    ]);
  });

  it('tags every count with its shard when the event topic is partitioned', () => {
    const c = new EventCounter(settings({ shard: '2' }));
    c.ingest(occurrence(T0, 'BackOff', { ns: 'a', workload: 'web' }));
    c.ingest(occurrence(T0 + 2 * MIN, 'BackOff', { ns: 'a' }));
    const m = points(c.close(), '1m');
    expect(m.length).toBe(3);
    for (const p of m) expect(p.tags.shard).toBe('2');
  });

  it('continues byte for byte after a snapshot is restored (through JSON, as checkpointed)', () => {
    const input = [
      occurrence(T0 + 1_000, 'BackOff', { ns: 'a', workload: 'web' }),
      occurrence(T0 + 20_000, 'Evicted', { ns: 'b' }),
      occurrence(T0 + MIN + 31_000, 'BackOff', { ns: 'a' }),
      occurrence(T0 + 2 * MIN + 31_000, 'FailedScheduling', { ns: 'a', workload: 'web' }),
      occurrence(T0 + 61 * MIN, 'BackOff', { ns: 'a' }),
    ];
    const straight = new EventCounter(settings());
    const expected = input.map((r) => (straight.ingest(r), straight.close()));
    let c = new EventCounter(settings());
    const got: OutputRecord[][] = [];
    for (const r of input) {
      c.ingest(r);
      got.push(c.close());
      const restored = new EventCounter(settings());
      restored.restore(JSON.parse(JSON.stringify(c.snapshot())));
      c = restored;
    }
    expect(JSON.stringify(got)).toBe(JSON.stringify(expected));
    expect(expected.flat().length).toBeGreaterThan(0);
  });
});
