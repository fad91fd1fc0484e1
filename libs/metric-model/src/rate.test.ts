import { describe, expect, it } from 'vitest';
import type { MetricPoint } from '@heapstream/contracts';
import { cpuUsageRateMillicores, cumulativeRate, RateTracker, ratesBetween } from './rate.js';

const opts = { maxGapMs: 60_000 };

describe('cumulativeRate', () => {
  it('divides the delta by the samples own interval', () => {
    expect(cumulativeRate({ value: 100, timestamp: 10_000 }, { value: 400, timestamp: 13_000 }, opts)).toEqual({ ok: true, value: 100, intervalMs: 3000 });
  });

  it.each([
    ['first-sample', undefined, { value: 1, timestamp: 1000 }],
    ['restarted', { value: 1, timestamp: 1000, startTime: 5 }, { value: 9, timestamp: 2000, startTime: 6 }],
    ['counter-reset', { value: 10, timestamp: 1000 }, { value: 9, timestamp: 2000 }],
    ['not-advanced', { value: 1, timestamp: 1000 }, { value: 2, timestamp: 1000 }],
    ['not-advanced', { value: 1, timestamp: 2000 }, { value: 2, timestamp: 1000 }],
    ['gap-too-long', { value: 1, timestamp: 1000 }, { value: 2, timestamp: 62_000 }],
  ] as const)('gives nothing on %s', (reason, prev, curr) => {
    expect(cumulativeRate(prev, curr, opts)).toEqual({ ok: false, reason });
  });

  it('checks the startTime before the delta: a restart with a higher counter is still no rate', () => {
    expect(cumulativeRate({ value: 1, timestamp: 1000, startTime: 1 }, { value: 1e12, timestamp: 2000, startTime: 1500 }, opts)).toEqual({ ok: false, reason: 'restarted' });
  });
});

describe('cpuUsageRateMillicores', () => {
  it('turns ns of CPU per second into millicores, as a float', () => {
    expect(cpuUsageRateMillicores({ value: 0, timestamp: 0 }, { value: 2e9, timestamp: 2000 }, opts)).toMatchObject({ ok: true, value: 1000 });
    expect(cpuUsageRateMillicores({ value: 0, timestamp: 0 }, { value: 1_234_567, timestamp: 1000 }, opts)).toMatchObject({ ok: true, value: 1.234567 });
  });

  it('stays precise on huge counters', () => {
    const r = cpuUsageRateMillicores({ value: 774129887054161, timestamp: 0 }, { value: 774129887054161 + 5e8, timestamp: 1000 }, opts);
    expect(r).toMatchObject({ ok: true, value: 500 });
  });
});

const pt = (metric: string, value: number, timestamp: number, startTime?: number): MetricPoint => ({
  metric,
  entityType: 'pod_container',
  tags: { pod_name: 'p', container_name: 'c' },
  timestamp,
  value,
  ...(startTime === undefined ? {} : { startTime }),
});

describe('RateTracker', () => {
  it('emits one rate per cumulative series with the current sample time, and ignores gauges', () => {
    const t = new RateTracker(opts);
    expect(t.update([pt('cpu/usage', 0, 1000, 1), pt('memory/usage', 5, 1000)])).toEqual({ points: [], skipped: { 'first-sample': 1 } });
    const r = t.update([pt('cpu/usage', 1e9, 2000, 1), pt('network/rx', 10, 2000, 1)]);
    expect(r.points).toEqual([{ metric: 'cpu/usage_rate', entityType: 'pod_container', tags: { pod_name: 'p', container_name: 'c' }, timestamp: 2000, value: 1000 }]);
    expect(r.skipped).toEqual({ 'first-sample': 1 });
  });

  it('keeps the newer state when a late older sample arrives', () => {
    const t = new RateTracker(opts);
    t.update([pt('cpu/usage', 0, 1000)]);
    t.update([pt('cpu/usage', 2e9, 3000)]);
    expect(t.update([pt('cpu/usage', 1e9, 2000)]).skipped).toEqual({ 'not-advanced': 1 });
    expect(t.update([pt('cpu/usage', 3e9, 4000)]).points[0]?.value).toBe(1000);
  });

  it('restarts cleanly after a container restart', () => {
    const t = new RateTracker(opts);
    t.update([pt('cpu/usage', 5e9, 1000, 1)]);
    expect(t.update([pt('cpu/usage', 1e8, 2000, 1500)]).skipped).toEqual({ restarted: 1 });
    expect(t.update([pt('cpu/usage', 6e8, 3000, 1500)]).points[0]?.value).toBe(500);
  });

  it('survives a restart through snapshot and restore, and prunes old series', () => {
    const a = new RateTracker(opts);
    a.update([pt('cpu/usage', 0, 1000)]);
    const b = new RateTracker(opts);
    b.restore(a.snapshot());
    expect(b.update([pt('cpu/usage', 1e9, 2000)]).points).toHaveLength(1);
    expect(b.prune(5000)).toBe(1);
    expect(b.snapshot()).toEqual([]);
  });

  it('ratesBetween is the pure two-set form', () => {
    expect(ratesBetween([pt('memory/page_faults', 10, 0)], [pt('memory/page_faults', 30, 2000)], opts).points[0]).toMatchObject({ metric: 'memory/page_faults_rate', value: 10 });
  });
});
