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

/** Checkpoint form of one series' open windows: [series, ...accs without the series]. */
export type SeriesWindows = [string, ...(number | string)[][]];

/**
 * The open windows of one owner (a node, or a rollup entity), grouped by series in
 * first-seen order, which the checkpoint keeps: a restored owner emits its windows in
 * the same order as one that never stopped. A series whose windows all closed is
 * removed, so both re-add it at the end.
 */
export class WindowSet {
  private readonly bySeries = new Map<string, WindowAcc[]>();
  private count = 0;

  add(p: MetricPoint, series: string, specs: readonly WindowSpec[]): void {
    let list = this.bySeries.get(series);
    if (!list) this.bySeries.set(series, (list = []));
    for (const spec of specs) {
      const start = windowStart(p.timestamp, spec.sizeMs);
      const acc = list.find((a) => a[2] === start && a[1] === spec.resolution);
      if (acc) foldPoint(acc, p, spec, series);
      else {
        list.push(foldPoint(undefined, p, spec, series));
        this.count++;
      }
    }
  }

  /** Time of the newest point folded into any open window of `series`, if one is open. */
  latestAt(series: string): number | undefined {
    let latest: number | undefined;
    for (const a of this.bySeries.get(series) ?? []) if (latest === undefined || a[LAST_AT] > latest) latest = a[LAST_AT];
    return latest;
  }

  /** Removes and returns the windows with end + lateness <= watermark, in order. */
  close(watermark: number, latenessMs: number): WindowAcc[] {
    const closed: WindowAcc[] = [];
    for (const [series, list] of this.bySeries) {
      let kept = 0;
      for (const acc of list) {
        if (acc[3] + latenessMs <= watermark) closed.push(acc);
        else list[kept++] = acc;
      }
      list.length = kept;
      if (kept === 0) this.bySeries.delete(series);
    }
    this.count -= closed.length;
    return closed;
  }

  get size(): number {
    return this.count;
  }

  ends(): number[] {
    const out: number[] = [];
    for (const list of this.bySeries.values()) for (const a of list) out.push(a[3]);
    return out;
  }

  snapshot(): SeriesWindows[] {
    return [...this.bySeries].map(([series, list]) => [series, ...list.map((a) => a.slice(1))]);
  }

  static restore(groups: readonly SeriesWindows[]): WindowSet {
    const set = new WindowSet();
    for (const [series, ...accs] of groups) {
      set.bySeries.set(series, accs.map((a) => [series, ...a] as WindowAcc));
      set.count += accs.length;
    }
    return set;
  }
}
