import { rollupKey, type EventRecord, type MetricPoint } from '@heapstream/contracts';
import { EVENT_OCCURRENCES_METRIC, TAGS } from '@heapstream/metric-model';
import type { OutputRecord } from '../core/processor.js';
import { SHARD_TAG } from '../core/rollups.js';
import { parseSeriesKey, windowSeriesKey } from '../core/series.js';
import { foldPoint, windowPoint, windowStart, type WindowAcc, type WindowSpec } from '../core/windows.js';

/*
 * Event-derived counters for one partition of the event topic, with no I/O and no
 * clock: occurrences per reason and type, per namespace, per owning workload and for
 * the cluster, per 1m/1h window. Each occurrence is a sample of value 1, so a window's
 * `sum` (and `count`) is the number of occurrences.
 *
 * Windows go by `observedAt`, the time the event-watcher saw the occurrence, not by
 * `occurredAt`: a repeat is seen when the Event's count changes, often tens of seconds
 * after its (approximate) occurrence time, and Events arrive in no time order across
 * objects, so occurrence-time windows would drop many as late. Observation times grow
 * with the record order (one watcher leads at a time), so nothing is late except across
 * a leader hand-over. The watermark is the latest `observedAt` on the partition; a
 * window closes when the watermark passes its end plus the allowed lateness, and an
 * occurrence for a closed window is counted as late and dropped.
 */

export interface EventCounterSettings {
  producer: string;
  windows: readonly WindowSpec[];
  allowedLatenessMs: number;
  /** Cluster name for records that carry none. */
  cluster: string;
  /** Set when the event topic has several partitions: each partition's counts are partial. */
  shard?: string;
}

/** What a partition's counter checkpoints: everything its future output depends on. */
export interface EventCounterState {
  watermark: number | null;
  /** Open windows in first-seen order. */
  windows: WindowAcc[];
}

export interface EventIngestResult {
  /** Occurrences that fell into already closed windows (counted, dropped). */
  late: number;
}

type Entity = Omit<MetricPoint, 'timestamp' | 'value'>;

/** An occurrence's entities: always the cluster; its namespace and workload where known. */
function entitiesOf(rec: EventRecord, cluster: string, shard: string | undefined): Entity[] {
  const reason = rec.event.reason || 'Unknown';
  const type = rec.event.type || 'Unknown';
  const base: Record<string, string> = { [TAGS.clusterName]: rec.cluster ?? cluster, [TAGS.reason]: reason, [TAGS.eventType]: type };
  if (shard !== undefined) base[SHARD_TAG] = shard;
  const metric = EVENT_OCCURRENCES_METRIC;
  const out: Entity[] = [{ metric, entityType: 'cluster', tags: base }];
  const namespace = rec.involvedObject.namespace || rec.event.namespace;
  if (namespace) {
    out.push({ metric, entityType: 'ns', tags: { ...base, [TAGS.namespaceName]: namespace } });
    const w = rec.workload;
    if (w) out.push({ metric, entityType: 'workload', tags: { ...base, [TAGS.namespaceName]: namespace, [TAGS.workloadKind]: w.kind, [TAGS.workloadName]: w.name } });
  }
  return out;
}

/** The rollup-topic key of a window's entity, as the metric rollups use. */
function outputKey(series: string): string {
  const { entityType, tags } = parseSeriesKey(series);
  const ns = tags[TAGS.namespaceName] ?? '';
  if (entityType === 'workload') return rollupKey('workload', ns, tags[TAGS.workloadKind] ?? '', tags[TAGS.workloadName] ?? '');
  return entityType === 'ns' ? rollupKey('ns', ns) : rollupKey('cluster');
}

const accKey = (resolution: string, start: number, series: string): string => `${resolution}\u0004${start}\u0004${series}`;

export class EventCounter {
  private readonly open = new Map<string, WindowAcc>();
  private watermark = Number.NEGATIVE_INFINITY;

  constructor(private readonly s: EventCounterSettings) {}

  ingest(rec: EventRecord): EventIngestResult {
    const n = rec.coalesced ?? 1;
    const t = rec.observedAt;
    let late = 0;
    const entities = entitiesOf(rec, this.s.cluster, this.s.shard);
    for (const spec of this.s.windows) {
      const start = windowStart(t, spec.sizeMs);
      if (start + spec.sizeMs + this.s.allowedLatenessMs <= this.watermark) {
        late = n;
        continue;
      }
      for (const entity of entities) {
        const p: MetricPoint = { ...entity, timestamp: t, value: 1 };
        const series = windowSeriesKey(p);
        const k = accKey(spec.resolution, start, series);
        let acc = this.open.get(k);
        for (let i = 0; i < n; i++) acc = foldPoint(acc, p, spec, series);
        this.open.set(k, acc!);
      }
    }
    if (t > this.watermark) this.watermark = t;
    return { late };
  }

  /** Closes the windows the watermark has passed (plus lateness), in first-seen order. */
  close(): OutputRecord[] {
    const byOutput = new Map<string, OutputRecord>();
    for (const [k, acc] of this.open) {
      if (acc[3] + this.s.allowedLatenessMs > this.watermark) continue;
      this.open.delete(k);
      const series = acc[0];
      const key = outputKey(series);
      const stream = acc[1];
      const outKey = `${stream}\u0004${key}`;
      let rec = byOutput.get(outKey);
      if (!rec) {
        const cluster = parseSeriesKey(series).tags[TAGS.clusterName] ?? this.s.cluster;
        rec = { stream, key, batch: { cluster, resolution: stream, producedAt: acc[3], producer: this.s.producer, points: [] } };
        byOutput.set(outKey, rec);
      }
      rec.batch.points.push(windowPoint(acc));
      // Output time is input-derived (the latest window end), so a replay is byte-identical.
      rec.batch.producedAt = Math.max(rec.batch.producedAt, acc[3]);
    }
    return [...byOutput.values()];
  }

  snapshot(): EventCounterState {
    return { watermark: Number.isFinite(this.watermark) ? this.watermark : null, windows: [...this.open.values()].map((a) => [...a] as WindowAcc) };
  }

  restore(state: EventCounterState): void {
    this.open.clear();
    this.watermark = state.watermark ?? Number.NEGATIVE_INFINITY;
    for (const acc of state.windows) this.open.set(accKey(acc[1], acc[2], acc[0]), [...acc] as WindowAcc);
  }
}
