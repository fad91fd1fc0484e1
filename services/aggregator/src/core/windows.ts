import type { EntityType, MetricPoint, Resolution } from '@heapstream/contracts';

/** One open event-time window of one series: everything needed to emit it, and to checkpoint it. */
export interface WindowAcc {
  resolution: Exclude<Resolution, 'native'>;
  start: number;
  end: number;
  metric: string;
  entityType: EntityType;
  tags: Record<string, string>;
  min: number;
  max: number;
  sum: number;
  count: number;
  last: number;
  /** Timestamp of the point `last` came from: a late point never replaces a newer last. */
  lastAt: number;
  /** Hierarchy rollups: members of the latest point. */
  members?: number;
}

export interface WindowSpec {
  resolution: Exclude<Resolution, 'native'>;
  sizeMs: number;
}

export const windowStart = (t: number, sizeMs: number): number => Math.floor(t / sizeMs) * sizeMs;

/** Pure: fold one native point into an accumulator (creating it when absent). */
export function foldPoint(acc: WindowAcc | undefined, p: MetricPoint, spec: WindowSpec, seriesTags: Record<string, string>): WindowAcc {
  if (!acc) {
    const start = windowStart(p.timestamp, spec.sizeMs);
    const created: WindowAcc = {
      resolution: spec.resolution,
      start,
      end: start + spec.sizeMs,
      metric: p.metric,
      entityType: p.entityType,
      tags: seriesTags,
      min: p.value,
      max: p.value,
      sum: p.value,
      count: 1,
      last: p.value,
      lastAt: p.timestamp,
    };
    if (p.members !== undefined) created.members = p.members;
    return created;
  }
  if (p.value < acc.min) acc.min = p.value;
  if (p.value > acc.max) acc.max = p.value;
  acc.sum += p.value;
  acc.count += 1;
  if (p.timestamp >= acc.lastAt) {
    acc.last = p.value;
    acc.lastAt = p.timestamp;
    if (p.members !== undefined) acc.members = p.members;
  }
  return acc;
}

/** A closed window as the point the rollup topics carry: value = mean, timestamp = window start. */
export function windowPoint(acc: WindowAcc): MetricPoint {
  const p: MetricPoint = {
    metric: acc.metric,
    entityType: acc.entityType,
    tags: acc.tags,
    timestamp: acc.start,
    value: acc.sum / acc.count,
    window: { start: acc.start, end: acc.end, min: acc.min, max: acc.max, sum: acc.sum, count: acc.count, last: acc.last },
  };
  if (acc.members !== undefined) p.members = acc.members;
  return p;
}

/**
 * The open windows of one owner (a node, or a rollup entity). Keyed by
 * resolution, series and window start, in insertion order, which the checkpoint keeps:
 * a restored owner emits its windows in the same order as one that never stopped.
 */
export class WindowSet {
  readonly open = new Map<string, WindowAcc>();

  add(p: MetricPoint, series: string, specs: readonly WindowSpec[]): void {
    for (const spec of specs) {
      const key = `${spec.resolution}\u0000${windowStart(p.timestamp, spec.sizeMs)}\u0000${series}`;
      const acc = this.open.get(key);
      const next = foldPoint(acc, p, spec, p.tags);
      if (!acc) this.open.set(key, next);
    }
  }

  /** Removes and returns the windows with end + lateness <= watermark, in insertion order. */
  close(watermark: number, latenessMs: number): WindowAcc[] {
    const closed: WindowAcc[] = [];
    for (const [key, acc] of this.open) {
      if (acc.end + latenessMs <= watermark) {
        closed.push(acc);
        this.open.delete(key);
      }
    }
    return closed;
  }

  get size(): number {
    return this.open.size;
  }

  snapshot(): WindowAcc[] {
    return [...this.open.values()];
  }

  static restore(accs: readonly WindowAcc[], seriesOf: (acc: WindowAcc) => string): WindowSet {
    const set = new WindowSet();
    for (const a of accs) set.open.set(`${a.resolution}\u0000${a.start}\u0000${seriesOf(a)}`, { ...a });
    return set;
  }
}
