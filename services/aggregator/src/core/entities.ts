import type { EntityType, MetricPoint } from '@heapstream/contracts';
import { IntMap } from './int-map.js';

/*
 * Series identity without a string per series. A node holds ~850 window series and
 * ~340 rate series over ~90 entities (the node, its pods and containers, volumes):
 * the entity's text (type and sorted tags) is stored once per owner in an
 * EntityTable, and a series is the number `entity id * METRIC_IDS + metric id`.
 */

/** Metric ids are interned per process; checkpoints store metric names, never ids. */
const METRIC_IDS = 4096;
const metricIds = new Map<string, number>();
const metricNames: string[] = [];

export function metricId(metric: string): number {
  let id = metricIds.get(metric);
  if (id === undefined) {
    id = metricNames.length;
    if (id >= METRIC_IDS) throw new Error(`more than ${METRIC_IDS} distinct metric names`);
    metricIds.set(metric, id);
    metricNames.push(metric);
  }
  return id;
}

export const metricName = (id: number): string => metricNames[id]!;

export const seriesNumber = (entity: number, metric: number): number => entity * METRIC_IDS + metric;

/*
 * An entity's text: type, then the tags sorted by key, joined with control characters
 * (which no tag key or value contains) so it parses back. The points of one entity
 * share one tags object, so the text is built once per entity and scrape.
 */
interface CachedEntity {
  entityType: EntityType;
  text: string;
  /** The id last looked up for it, valid while `table` is at `generation` (see EntityTable.idOf). */
  table?: EntityTable;
  generation?: number;
  id?: number;
}
const cache = new WeakMap<Record<string, string>, CachedEntity>();

function cached(p: Pick<MetricPoint, 'entityType' | 'tags'>): CachedEntity {
  const hit = cache.get(p.tags);
  if (hit?.entityType === p.entityType) return hit;
  let text: string = p.entityType;
  for (const k of Object.keys(p.tags).sort()) text += `\u0001${k}\u0002${p.tags[k]}`;
  const entry: CachedEntity = { entityType: p.entityType, text };
  cache.set(p.tags, entry);
  return entry;
}


export function parseEntityText(text: string): { entityType: EntityType; tags: Record<string, string> } {
  const [entityType, ...pairs] = text.split('\u0001');
  const tags: Record<string, string> = {};
  for (const kv of pairs) {
    const i = kv.indexOf('\u0002');
    tags[kv.slice(0, i)] = kv.slice(i + 1);
  }
  return { entityType: entityType as EntityType, tags };
}

/**
 * The entities of one owner, by id. Users (window and rate slots) retain and release
 * ids; `sweep` frees ids nobody retains, and the lowest free id is reused first, so
 * ids are a function of the checkpointed table and a restored owner numbers its
 * entities exactly as one that never stopped.
 */
export class EntityTable {
  private readonly ids = new Map<string, number>();
  private readonly texts: (string | null)[] = [];
  private refs = new Uint32Array(8);
  /** Latest start time (container, pod or node start) by id; NaN when none seen. */
  private starts = new Float64Array(8);
  /** Free ids, highest first: pop() takes the lowest. */
  private free: number[] = [];
  /** Bumped when ids are freed (and may be reused): cached ids of older generations are stale. */
  private generation = 0;
  /** The tags parsed back from a text, for output: kept only while the owner closes windows. */
  private readonly parsed = new Map<number, { entityType: EntityType; tags: Record<string, string> }>();

  /** The id of a point's entity (its text: type and sorted tags), remembered on the point's tags object. */
  idOf(p: Pick<MetricPoint, 'entityType' | 'tags'>): number {
    const entry = cached(p);
    if (entry.table === this && entry.generation === this.generation) return entry.id!;
    entry.table = this;
    entry.generation = this.generation;
    return (entry.id = this.id(entry.text));
  }

  /** The entity's id, allocating one (unretained until a user retains it) if it is new. */
  id(text: string): number {
    const known = this.ids.get(text);
    if (known !== undefined) return known;
    const id = this.free.pop() ?? this.texts.length;
    if (id === this.texts.length) this.texts.push(text);
    else this.texts[id] = text;
    this.ids.set(text, id);
    this.refs = grown(this.refs, id + 1);
    this.starts = grown(this.starts, id + 1);
    this.starts[id] = Number.NaN;
    return id;
  }

  /** The latest start time seen for the entity, if any. */
  startOf(id: number): number | undefined {
    const t = this.starts[id]!;
    return Number.isNaN(t) ? undefined : t;
  }

  setStart(id: number, startTime: number): void {
    this.starts[id] = startTime;
  }

  retain(id: number): void {
    this.refs[id]!++;
  }

  release(id: number): void {
    this.refs[id]!--;
  }

  /** Frees every id nobody retains. */
  sweep(): void {
    let freed = false;
    for (let id = 0; id < this.texts.length; id++) {
      const text = this.texts[id];
      if (text === null || text === undefined || this.refs[id]! > 0) continue;
      this.ids.delete(text);
      this.texts[id] = null;
      this.parsed.delete(id);
      this.free.push(id);
      freed = true;
    }
    if (freed) {
      this.free.sort((a, b) => b - a);
      this.generation++;
    }
  }

  /** Entity type and tags (one shared tags object per entity while parsed ones are kept). */
  entity(id: number): { entityType: EntityType; tags: Record<string, string> } {
    let e = this.parsed.get(id);
    if (!e) this.parsed.set(id, (e = parseEntityText(this.texts[id]!)));
    return e;
  }

  /** Drops the parsed tags: they are only needed while closing windows. */
  forgetParsed(): void {
    this.parsed.clear();
  }

  get size(): number {
    return this.ids.size;
  }

  snapshot(): (string | null)[] {
    return [...this.texts];
  }

  /** Start times as [id, startTime] pairs. */
  snapshotStarts(): [number, number][] {
    const out: [number, number][] = [];
    for (let id = 0; id < this.texts.length; id++) if (this.texts[id] !== null && !Number.isNaN(this.starts[id])) out.push([id, this.starts[id]!]);
    return out;
  }

  /** Ids are restored unretained: restoring users retain theirs, then sweep. */
  static restore(texts: readonly (string | null)[], starts: readonly [number, number][] = []): EntityTable {
    const table = new EntityTable();
    table.refs = new Uint32Array(Math.max(8, texts.length));
    table.starts = new Float64Array(table.refs.length).fill(Number.NaN);
    texts.forEach((text, id) => {
      table.texts.push(text);
      if (text === null) table.free.push(id);
      else table.ids.set(text, id);
    });
    for (const [id, t] of starts) if (id < texts.length) table.starts[id] = t;
    table.free.reverse();
    return table;
  }
}

export const seriesEntity = (series: number): number => Math.floor(series / METRIC_IDS);
export const seriesMetric = (series: number): number => series % METRIC_IDS;

/** Checkpoint form of a series: entity id and metric name. */
export type SeriesRef = [entity: number, metric: string];

/**
 * Series -> slot in a column store. A slot retains its entity; the lowest free slot is
 * reused first, so slots, like entity ids, follow from the checkpointed table.
 */
export class SlotTable {
  private readonly slotOf = new IntMap();
  /** Series number by slot, -1 when free. */
  readonly series: number[] = [];
  private free: number[] = [];
  private freeSorted = true;

  constructor(readonly entities: EntityTable) {}

  get(series: number): number | undefined {
    return this.slotOf.get(series);
  }

  allocate(series: number): number {
    if (!this.freeSorted) {
      this.free.sort((a, b) => b - a);
      this.freeSorted = true;
    }
    const slot = this.free.pop() ?? this.series.length;
    if (slot === this.series.length) this.series.push(series);
    else this.series[slot] = series;
    this.slotOf.set(series, slot);
    this.entities.retain(seriesEntity(series));
    return slot;
  }

  release(slot: number): void {
    const series = this.series[slot]!;
    this.entities.release(seriesEntity(series));
    this.slotOf.delete(series);
    this.series[slot] = -1;
    this.free.push(slot);
    this.freeSorted = false;
  }

  /** Slots in use or freed: columns must hold this many. */
  get length(): number {
    return this.series.length;
  }

  snapshot(): (SeriesRef | null)[] {
    return this.series.map((s) => (s < 0 ? null : [seriesEntity(s), metricName(seriesMetric(s))]));
  }

  static restore(entities: EntityTable, refs: readonly (SeriesRef | null)[]): SlotTable {
    const table = new SlotTable(entities);
    refs.forEach((ref, slot) => {
      if (ref === null) {
        table.series.push(-1);
        table.free.push(slot);
        return;
      }
      const series = seriesNumber(ref[0], metricId(ref[1]));
      table.series.push(series);
      table.slotOf.set(series, slot);
      entities.retain(ref[0]);
    });
    table.free.reverse();
    return table;
  }
}

/** `a`, or a copy at least twice as long when it is shorter than `needed`. */
export function grown<T extends Float64Array | Uint32Array | Uint16Array>(a: T, needed: number): T {
  if (needed <= a.length) return a;
  const copy = new (a.constructor as new (length: number) => T)(Math.max(needed, a.length * 2));
  copy.set(a);
  return copy;
}

/**
 * A view of a typed array's first `length` elements as bytes (native order: little-endian
 * on every platform Node runs on), for a checkpoint encoded before the array changes.
 */
export function columnBytes(a: Float64Array | Uint32Array, length: number): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, length * a.BYTES_PER_ELEMENT);
}

/** The inverse of columnBytes, into an array at least that long. */
export function copyColumnBytes(target: Float64Array | Uint32Array, bytes: Uint8Array): void {
  new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(bytes.subarray(0, target.byteLength));
}
