import type { MetricPoint } from '@heapstream/contracts';
import { rateFor, rateMetricFor, toRatePoint, type RateOptions, type RateSkipReason } from '@heapstream/metric-model';
import { copyColumnBytes, columnBytes, grown, metricId, seriesNumber, SlotTable, type EntityTable, type SeriesRef } from './entities.js';

/*
 * The last sample of every cumulative series of one node, by column, and the rate
 * each new sample gives against it. The same rules as metric-model's RateTracker
 * (which `inspect` uses), stored as three float64 columns per slot instead of an
 * object and a JSON key per series: a node has ~340 of them.
 */

/** Float columns per slot: value, timestamp, startTime (NaN = none). */
const COLUMNS = 3;
const VALUE = 0, TIMESTAMP = 1, START = 2;

/** Checkpoint form: series by slot (null = free), and the columns as bytes: views, encode before the store changes. */
export interface RateStoreState {
  series: (SeriesRef | null)[];
  columns: Uint8Array;
}

export class RateStore {
  private columns = new Float64Array(64 * COLUMNS);

  constructor(
    private readonly options: RateOptions,
    entities: EntityTable,
    private readonly slots = new SlotTable(entities),
  ) {}

  /**
   * The rate point of cumulative point `p` (of entity id `entity`), or why there is
   * none; undefined when the metric has no rate. The sample becomes the series' last
   * unless it is older than the one kept.
   */
  next(p: MetricPoint, entity: number): MetricPoint | RateSkipReason | undefined {
    const def = rateMetricFor(p.metric);
    if (!def) return undefined;
    const series = seriesNumber(entity, metricId(p.metric));
    let slot = this.slots.get(series);
    let result: MetricPoint | RateSkipReason;
    if (slot === undefined) {
      slot = this.allocate(series);
      result = 'first-sample';
    } else {
      const c = slot * COLUMNS;
      const timestamp = this.columns[c + TIMESTAMP]!;
      // A late, older sample must not replace the newer state.
      if (p.timestamp < timestamp) return 'not-advanced';
      const start = this.columns[c + START]!;
      const prev = { value: this.columns[c + VALUE]!, timestamp, ...(Number.isNaN(start) ? {} : { startTime: start }) };
      const r = rateFor(p.metric, prev, p, this.options);
      result = r.ok ? toRatePoint(p, def, r.value) : r.reason;
    }
    const c = slot * COLUMNS;
    this.columns[c + VALUE] = p.value;
    this.columns[c + TIMESTAMP] = p.timestamp;
    this.columns[c + START] = p.startTime ?? Number.NaN;
    return result;
  }

  /** Forget series whose last sample is older than `beforeMs` (gone containers). */
  prune(beforeMs: number): void {
    for (let slot = 0; slot < this.slots.length; slot++) {
      if (this.slots.series[slot]! >= 0 && this.columns[slot * COLUMNS + TIMESTAMP]! < beforeMs) this.slots.release(slot);
    }
  }

  snapshot(): RateStoreState {
    return { series: this.slots.snapshot(), columns: columnBytes(this.columns, this.slots.length * COLUMNS) };
  }

  static restore(options: RateOptions, entities: EntityTable, state: RateStoreState): RateStore {
    const slots = SlotTable.restore(entities, state.series);
    const store = new RateStore(options, entities, slots);
    store.columns = new Float64Array(Math.max(64, slots.length) * COLUMNS);
    copyColumnBytes(store.columns, state.columns);
    return store;
  }

  private allocate(series: number): number {
    const slot = this.slots.allocate(series);
    this.columns = grown(this.columns, (slot + 1) * COLUMNS);
    return slot;
  }
}
