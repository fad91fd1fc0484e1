import type { EntityType, MetricPoint, Resolution } from '@heapstream/contracts';
import { columnBytes, copyColumnBytes, grown, metricId, metricName, seriesEntity, seriesMetric, seriesNumber, SlotTable, type EntityTable, type SeriesRef } from './entities.js';
import { parseSeriesKey } from './series.js';

export type WindowResolution = Exclude<Resolution, 'native'>;

export interface WindowSpec {
  resolution: WindowResolution;
  sizeMs: number;
}

/**
 * One open event-time window of one series as a tuple, for the event counters (few
 * series; the metric windows are stored by column, see WindowSet below): [series,
 * resolution, start, end, min, max, sum, count, last, lastAt (time of the point `last`
 * came from), members (rollups; -1 when none)].
 */
export type WindowAcc = [string, WindowResolution, number, number, number, number, number, number, number, number, number];
const MIN = 4, MAX = 5, SUM = 6, COUNT = 7, LAST = 8, LAST_AT = 9, MEMBERS = 10;

export const windowStart = (t: number, sizeMs: number): number => Math.floor(t / sizeMs) * sizeMs;

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

/*
 * Open windows of one owner, stored by column. Millions of windows are open at 5,000
 * nodes, so a window is not an object: each series of the owner has a slot (see
 * SlotTable), and each open window period (one resolution, one start) is a `Period`
 * holding every slot's accumulator in two typed arrays: ~44 bytes per open window
 * instead of an array of boxed numbers, and a checkpoint copies the arrays.
 */

/** Float columns per slot: min, max, sum, last. */
const FLOATS = 4;
/** Integer columns per slot: count (0 = no window), lastAt - start, members + 1 (0 = none). */
const INTS = 3;
const F_MIN = 0, F_MAX = 1, F_SUM = 2, F_LAST = 3;
const I_COUNT = 0, I_LAST_AT = 1, I_MEMBERS = 2;

/** One window period (resolution and start) of one owner: an accumulator per slot. */
class Period {
  floats: Float64Array;
  ints: Uint32Array;

  constructor(
    readonly resolution: WindowResolution,
    readonly start: number,
    readonly end: number,
    capacity: number,
  ) {
    this.floats = new Float64Array(capacity * FLOATS);
    this.ints = new Uint32Array(capacity * INTS);
  }

  get capacity(): number {
    return this.ints.length / INTS;
  }

  ensure(needed: number): void {
    this.floats = grown(this.floats, needed * FLOATS);
    this.ints = grown(this.ints, needed * INTS);
  }

  has(slot: number): boolean {
    return slot < this.capacity && this.ints[slot * INTS + I_COUNT]! > 0;
  }

  lastAt(slot: number): number {
    return this.start + this.ints[slot * INTS + I_LAST_AT]!;
  }

  /** Folds the point in; true when it opened the slot's window in this period. */
  fold(slot: number, value: number, timestamp: number, members: number | undefined): boolean {
    const f = slot * FLOATS;
    const i = slot * INTS;
    const at = timestamp - this.start;
    const { floats, ints } = this;
    if (ints[i + I_COUNT] === 0) {
      floats[f + F_MIN] = floats[f + F_MAX] = floats[f + F_SUM] = floats[f + F_LAST] = value;
      ints[i + I_COUNT] = 1;
      ints[i + I_LAST_AT] = at;
      ints[i + I_MEMBERS] = members === undefined ? 0 : members + 1;
      return true;
    }
    if (value < floats[f + F_MIN]!) floats[f + F_MIN] = value;
    if (value > floats[f + F_MAX]!) floats[f + F_MAX] = value;
    floats[f + F_SUM] = floats[f + F_SUM]! + value;
    ints[i + I_COUNT] = ints[i + I_COUNT]! + 1;
    // A late point never replaces the last of a newer one.
    if (at >= ints[i + I_LAST_AT]!) {
      floats[f + F_LAST] = value;
      ints[i + I_LAST_AT] = at;
      if (members !== undefined) ints[i + I_MEMBERS] = members + 1;
    }
    return false;
  }

  /** The closed window of `slot` as the point the rollup topics carry: value = mean, timestamp = start. */
  point(slot: number, metric: string, entity: { entityType: EntityType; tags: Record<string, string> }): MetricPoint {
    const f = slot * FLOATS;
    const i = slot * INTS;
    const { floats, ints, start, end } = this;
    const sum = floats[f + F_SUM]!;
    const count = ints[i + I_COUNT]!;
    const window = { start, end, min: floats[f + F_MIN]!, max: floats[f + F_MAX]!, sum, count, last: floats[f + F_LAST]! };
    const p: MetricPoint = { metric, entityType: entity.entityType, tags: entity.tags, timestamp: start, value: sum / count, window };
    const members = ints[i + I_MEMBERS]!;
    if (members > 0) p.members = members - 1;
    return p;
  }
}

/** A closed period's windows, in slot order. */
export interface ClosedPeriod {
  resolution: WindowResolution;
  end: number;
  points: MetricPoint[];
}

/**
 * Checkpoint form of a WindowSet: the series by slot (null = free) and each open
 * period's columns as bytes (Float64 min, max, sum, last; Uint32 count, lastAt - start,
 * members + 1), cut to the slots in use. The bytes are views of the live columns:
 * encode them before the set changes.
 */
export interface WindowSetState {
  series: (SeriesRef | null)[];
  periods: [resolution: WindowResolution, start: number, end: number, floats: Uint8Array, ints: Uint8Array][];
}

/**
 * The open windows of one owner (a node, or a rollup entity). Output is in slot order;
 * a series' slot is freed when its last open window closes, and slots follow from the
 * checkpointed state (see SlotTable), so a restored owner emits exactly what one that
 * never stopped would.
 */
export class WindowSet {
  /** Open windows per slot, over all periods: 0 frees the slot. */
  private open = new Uint16Array(16);
  /** Open periods, oldest start first. */
  private periods: Period[] = [];
  private count = 0;

  /** `onPeriod` hears the end of every period opened (also on restore), to index closing. */
  constructor(
    readonly entities: EntityTable,
    private readonly onPeriod: (end: number) => void = () => {},
    private readonly slots = new SlotTable(entities),
  ) {}

  /** Folds `p` (of entity id `entity`) into its window of each spec. */
  add(p: MetricPoint, entity: number, specs: readonly WindowSpec[]): void {
    const series = seriesNumber(entity, metricId(p.metric));
    const slot = this.slots.get(series) ?? this.allocate(series);
    for (const spec of specs) {
      const period = this.period(spec, windowStart(p.timestamp, spec.sizeMs));
      if (period.fold(slot, p.value, p.timestamp, p.members)) {
        this.open[slot]!++;
        this.count++;
      }
    }
  }

  /** Time of the newest point folded into any open window of the series, if one is open. */
  latestAt(entity: number, metric: string): number | undefined {
    const slot = this.slots.get(seriesNumber(entity, metricId(metric)));
    if (slot === undefined) return undefined;
    let latest: number | undefined;
    for (const period of this.periods) {
      if (!period.has(slot)) continue;
      const at = period.lastAt(slot);
      if (latest === undefined || at > latest) latest = at;
    }
    return latest;
  }

  /** Removes and returns the periods with end + lateness <= watermark, oldest first. */
  close(watermark: number, latenessMs: number): ClosedPeriod[] {
    const closed: ClosedPeriod[] = [];
    const kept: Period[] = [];
    for (const period of this.periods) {
      if (period.end + latenessMs > watermark) {
        kept.push(period);
        continue;
      }
      const points: MetricPoint[] = [];
      for (let slot = 0; slot < this.slots.length; slot++) {
        if (!period.has(slot)) continue;
        const series = this.slots.series[slot]!;
        points.push(period.point(slot, metricName(seriesMetric(series)), this.entities.entity(seriesEntity(series))));
        this.count--;
        if (--this.open[slot]! === 0) this.slots.release(slot);
      }
      closed.push({ resolution: period.resolution, end: period.end, points });
    }
    this.periods = kept;
    this.entities.forgetParsed();
    return closed;
  }

  /** Open windows (series x period). */
  get size(): number {
    return this.count;
  }

  snapshot(): WindowSetState {
    const n = this.slots.length;
    return {
      series: this.slots.snapshot(),
      periods: this.periods.map((p) => [p.resolution, p.start, p.end, columnBytes(p.floats, Math.min(p.capacity, n) * FLOATS), columnBytes(p.ints, Math.min(p.capacity, n) * INTS)]),
    };
  }

  static restore(entities: EntityTable, state: WindowSetState, onPeriod?: (end: number) => void): WindowSet {
    const slots = SlotTable.restore(entities, state.series);
    const set = new WindowSet(entities, onPeriod, slots);
    const n = slots.length;
    set.open = new Uint16Array(Math.max(16, n));
    for (const [resolution, start, end, floats, ints] of state.periods) {
      const period = new Period(resolution, start, end, Math.max(16, n));
      copyColumnBytes(period.floats, floats);
      copyColumnBytes(period.ints, ints);
      for (let slot = 0; slot < n; slot++) {
        if (!period.has(slot)) continue;
        set.open[slot]!++;
        set.count++;
      }
      set.periods.push(period);
      set.onPeriod(end);
    }
    return set;
  }

  private allocate(series: number): number {
    const slot = this.slots.allocate(series);
    this.open = grown(this.open, slot + 1);
    for (const period of this.periods) period.ensure(this.slots.length);
    return slot;
  }

  private period(spec: WindowSpec, start: number): Period {
    for (const p of this.periods) if (p.start === start && p.resolution === spec.resolution) return p;
    const period = new Period(spec.resolution, start, start + spec.sizeMs, Math.max(16, this.slots.length));
    let i = this.periods.length;
    while (i > 0 && this.periods[i - 1]!.start > start) i--;
    this.periods.splice(i, 0, period);
    this.onPeriod(period.end);
    return period;
  }
}
