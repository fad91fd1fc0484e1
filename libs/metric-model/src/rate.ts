import type { MetricPoint, RateSeriesState } from '@heapstream/contracts';
import { METRICS, type MetricDef } from './catalogue.js';
import { seriesKey } from './series.js';

export interface CumulativeSample {
  value: number;
  /** The sample's own time (epoch ms), never the scrape time. */
  timestamp: number;
  /** When the counter started (container/pod/node start); a change means it restarted. */
  startTime?: number;
}

export interface RateOptions {
  /** Samples further apart than this give no rate: a missed scrape must not smear. */
  maxGapMs: number;
}

export const DEFAULT_RATE_OPTIONS: RateOptions = { maxGapMs: 5 * 60_000 };

export type RateSkipReason =
  | 'first-sample'
  | 'restarted' // startTime changed
  | 'counter-reset' // value went down without a startTime change
  | 'not-advanced' // same or older sample time: a stale repeat
  | 'gap-too-long';

export type RateResult = { ok: true; value: number; intervalMs: number } | { ok: false; reason: RateSkipReason };

/**
 * Per-second rate of a cumulative series between two of its samples. Every case
 * where Heapster produced a negative or huge rate (#1126, #1363) gives no rate.
 */
export function cumulativeRate(prev: CumulativeSample | undefined, curr: CumulativeSample, options: RateOptions = DEFAULT_RATE_OPTIONS): RateResult {
  if (!prev) return { ok: false, reason: 'first-sample' };
  if (prev.startTime !== undefined && curr.startTime !== undefined && prev.startTime !== curr.startTime) {
    return { ok: false, reason: 'restarted' };
  }
  const intervalMs = curr.timestamp - prev.timestamp;
  if (intervalMs <= 0) return { ok: false, reason: 'not-advanced' };
  if (intervalMs > options.maxGapMs) return { ok: false, reason: 'gap-too-long' };
  const delta = curr.value - prev.value;
  if (delta < 0) return { ok: false, reason: 'counter-reset' };
  return { ok: true, value: (delta * 1000) / intervalMs, intervalMs };
}

/** CPU usage in millicores from two usageCoreNanoSeconds samples: 1e9 ns/s = 1 core = 1000 m. */
export function cpuUsageRateMillicores(prev: CumulativeSample | undefined, curr: CumulativeSample, options: RateOptions = DEFAULT_RATE_OPTIONS): RateResult {
  const r = cumulativeRate(prev, curr, options);
  return r.ok ? { ...r, value: r.value / 1e6 } : r;
}

const RATE_OF = new Map<string, MetricDef>(METRICS.filter((m) => m.rateOf).map((m) => [m.rateOf!, m]));

/** The `_rate` metric derived from a cumulative metric, if the catalogue has one. */
export function rateMetricFor(cumulativeMetric: string): MetricDef | undefined {
  return RATE_OF.get(cumulativeMetric);
}

/** The rate of a cumulative metric between two samples: CPU in millicores, the rest per second. */
export function rateFor(metric: string, prev: CumulativeSample | undefined, curr: CumulativeSample, options: RateOptions): RateResult {
  return metric === 'cpu/usage' ? cpuUsageRateMillicores(prev, curr, options) : cumulativeRate(prev, curr, options);
}

/** The `_rate` point of a cumulative point. */
export function toRatePoint(p: MetricPoint, def: MetricDef, value: number): MetricPoint {
  return { metric: def.name, entityType: p.entityType, tags: p.tags, timestamp: p.timestamp, value };
}

export interface RateOutcome {
  points: MetricPoint[];
  /** How many series gave no rate, by reason. */
  skipped: Partial<Record<RateSkipReason, number>>;
}

/** Rate points between two point sets of the same entity (e.g. two scrapes of a node). Pure. */
export function ratesBetween(previous: readonly MetricPoint[], current: readonly MetricPoint[], options: RateOptions = DEFAULT_RATE_OPTIONS): RateOutcome {
  const tracker = new RateTracker(options);
  tracker.update(previous);
  return tracker.update(current);
}

/**
 * Keeps the last sample of every cumulative series and turns each new sample into a
 * rate point. The state can be saved to and restored from a RateCheckpoint.
 */
export class RateTracker {
  private readonly last = new Map<string, RateSeriesState>();

  constructor(private readonly options: RateOptions = DEFAULT_RATE_OPTIONS) {}

  update(points: readonly MetricPoint[]): RateOutcome {
    const out: RateOutcome = { points: [], skipped: {} };
    for (const p of points) {
      const def = rateMetricFor(p.metric);
      if (!def) continue;
      const key = seriesKey(p);
      const prev = this.last.get(key);
      // A late, older sample must not replace the newer state.
      if (prev && p.timestamp < prev.timestamp) {
        out.skipped['not-advanced'] = (out.skipped['not-advanced'] ?? 0) + 1;
        continue;
      }
      const r = rateFor(p.metric, prev, p, this.options);
      if (r.ok) out.points.push(toRatePoint(p, def, r.value));
      else out.skipped[r.reason] = (out.skipped[r.reason] ?? 0) + 1;
      const next: RateSeriesState = { series: key, value: p.value, timestamp: p.timestamp };
      if (p.startTime !== undefined) next.startTime = p.startTime;
      this.last.set(key, next);
    }
    return out;
  }

  /** Forget series whose last sample is older than `beforeMs` (gone containers). */
  prune(beforeMs: number): number {
    let n = 0;
    for (const [k, s] of this.last) if (s.timestamp < beforeMs && this.last.delete(k)) n++;
    return n;
  }

  snapshot(): RateSeriesState[] {
    return [...this.last.values()];
  }

  restore(states: readonly RateSeriesState[]): void {
    for (const s of states) this.last.set(s.series, { ...s });
  }
}
