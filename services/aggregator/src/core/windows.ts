import type { MetricPoint, Resolution } from '@heapstream/contracts';
import { parseSeriesKey } from './series.js';

export type WindowResolution = Exclude<Resolution, 'native'>;

export interface WindowSpec {
  resolution: WindowResolution;
  sizeMs: number;
}

/**
 * One open event-time window of one series. A tuple, because millions of them are
 * kept and checkpointed: [series, resolution, start, end, min, max, sum, count, last,
 * lastAt (time of the point `last` came from), members (rollups; -1 when none)].
 */
export type WindowAcc = [string, WindowResolution, number, number, number, number, number, number, number, number, number];
const MIN = 4, MAX = 5, SUM = 6, COUNT = 7, LAST = 8, LAST_AT = 9, MEMBERS = 10;

export const windowStart = (t: number, sizeMs: number): number => Math.floor(t / sizeMs) * sizeMs;
export const accEnd = (a: WindowAcc): number => a[3];
export const accResolution = (a: WindowAcc): WindowResolution => a[1];

/** Pure: fold one native point into an accumulator (creating it when absent). */
export function foldPoint(acc: WindowAcc | undefined, p: MetricPoint, spec: WindowSpec, series: string): WindowAcc {
  if (!acc) {
    const start = windowStart(p.timestamp, spec.sizeMs);
    return [series, spec.resolution, start, start + spec.sizeMs, p.value, p.value, p.value, 1, p.value, p.timestamp, p.members ?? -1];
  }
  if (p.value < acc[MIN]) acc[MIN] = p.value;
  if (p.value > acc[MAX]) acc[MAX] = p.value;
  acc[SUM] += p.value;
  acc[COUNT] += 1;
  // A late point never replaces the last of a newer one.
  if (p.timestamp >= acc[LAST_AT]) {
    acc[LAST] = p.value;
    acc[LAST_AT] = p.timestamp;
    if (p.members !== undefined) acc[MEMBERS] = p.members;
  }
  return acc;
}

/** A closed window as the point the rollup topics carry: value = mean, timestamp = window start, tags sorted. */
export function windowPoint(acc: WindowAcc): MetricPoint {
  const [series, , start, end, min, max, sum, count, last, , members] = acc;
  const { metric, entityType, tags } = parseSeriesKey(series);
  const p: MetricPoint = { metric, entityType, tags, timestamp: start, value: sum / count, window: { start, end, min, max, sum, count, last } };
  if (members >= 0) p.members = members;
  return p;
}

/**
 * The open windows of one owner (a node, or a rollup entity), in insertion order,
 * which the checkpoint keeps: a restored owner emits its windows in the same order as
 * one that never stopped.
 */
export class WindowSet {
  private readonly open = new Map<string, WindowAcc>();

  add(p: MetricPoint, series: string, specs: readonly WindowSpec[]): void {
    for (const spec of specs) {
      const key = `${spec.resolution}${windowStart(p.timestamp, spec.sizeMs)}\u0004${series}`;
      const acc = this.open.get(key);
      if (acc) foldPoint(acc, p, spec, series);
      else this.open.set(key, foldPoint(undefined, p, spec, series));
    }
  }

  /** Removes and returns the windows with end + lateness <= watermark, in insertion order. */
  close(watermark: number, latenessMs: number): WindowAcc[] {
    const closed: WindowAcc[] = [];
    for (const [key, acc] of this.open) {
      if (acc[3] + latenessMs <= watermark) {
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

  static restore(accs: readonly WindowAcc[]): WindowSet {
    const set = new WindowSet();
    for (const a of accs) set.open.set(`${a[1]}${a[2]}\u0004${a[0]}`, [...a] as WindowAcc);
    return set;
  }
}
