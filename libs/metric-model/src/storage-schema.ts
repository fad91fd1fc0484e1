import type { MetricPoint } from '@heapstream/contracts';
import { findMetric, splitMetricName, windowFieldsOf, type MetricDef, type ValueType, type WindowField } from './catalogue.js';
import { escapeMeasurement, escapeTag, formatFloat, formatInt, formatTimestamp, type Precision } from './line-protocol.js';
import { HIGH_CARDINALITY_TAGS, TAGS } from './tags.js';

/**
 * `heapster`: Heapster's default layout, one measurement per metric (`cpu/usage_rate`)
 * with a single field `value`. Drop-in for Heapster-era dashboards.
 * `wide`: Heapster's `withfields` layout, measurement = metric prefix (`cpu`) and one
 * field per suffix (`usage_rate`), several fields per line.
 */
export type StorageSchemaName = 'heapster' | 'wide';
export const STORAGE_SCHEMAS: readonly StorageSchemaName[] = ['heapster', 'wide'];
/** Heapster's default database name. */
export const DEFAULT_DATABASE = 'k8s';

export interface LineProtocolOptions {
  schema: StorageSchemaName;
  /** High-cardinality tag keys to write anyway (default: none of HIGH_CARDINALITY_TAGS). */
  keepTags?: readonly string[];
  precision?: Precision;
}

export type LineSkipReason = 'unknown-metric' | 'not-an-integer' | 'not-finite';

export interface LineProtocolResult {
  lines: string[];
  skipped: { point: MetricPoint; reason: LineSkipReason }[];
}

/** Sorted, escaped `,k=v` tag string with `type`, without empty values and dropped keys. */
function tagString(p: MetricPoint, drop: ReadonlySet<string>): string {
  const tags: [string, string][] = [[TAGS.type, p.entityType]];
  for (const k in p.tags) {
    const v = p.tags[k];
    if (v && k !== TAGS.type && !drop.has(k)) tags.push([k, v]);
  }
  tags.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let s = '';
  for (const [k, v] of tags) s += `,${escapeTag(k)}=${escapeTag(v)}`;
  return s;
}

/** Same keys with the same values (order aside), without allocating. */
function sameTags(a: Record<string, string>, b: Record<string, string>): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k]) return false;
    n++;
  }
  for (const _ in b) n--;
  return n === 0;
}

function formatValue(value: number, type: ValueType): string | LineSkipReason {
  if (!Number.isFinite(value)) return 'not-finite';
  return type === 'int' ? (formatInt(value) ?? 'not-an-integer') : formatFloat(value)!;
}

/**
 * How one metric is written in one layout, worked out once per metric instead of once
 * per point: the escaped measurement, and the escaped field keys of a native point, of
 * each stored window summary and of `members`.
 */
interface MetricLayout {
  def: MetricDef;
  measurement: string;
  value: string;
  /** `<name>_<summary>` keys of the window summaries the catalogue stores, in order. */
  windows: [key: string, summary: WindowField][];
  members: string;
}

const LAYOUTS: Record<StorageSchemaName, Map<string, MetricLayout>> = { heapster: new Map(), wide: new Map() };

function layoutOf(metric: string, schema: StorageSchemaName): MetricLayout | undefined {
  const known = LAYOUTS[schema].get(metric);
  if (known) return known;
  const def = findMetric(metric);
  if (!def) return undefined;
  const [measurement, name] = schema === 'wide' ? splitMetricName(metric) : [metric, 'value'];
  const layout: MetricLayout = {
    def,
    measurement: escapeMeasurement(measurement),
    value: escapeTag(name),
    windows: windowFieldsOf(def).map((f) => [escapeTag(`${name}_${f}`), f]),
    members: escapeTag(`${name}_members`),
  };
  LAYOUTS[schema].set(metric, layout);
  return layout;
}

/**
 * A point's fields as `key=value` texts into `out` (cleared first), or why it cannot be
 * stored: `name=value` for native points; for window points the metric's window
 * summaries (`windowFieldsOf`: `name_mean`, `_min`, `_max` for gauges and rates), mean a
 * float and count an int, the others the metric's type, so a field never changes type
 * between resolutions; rollup points also get `name_members` (int). `keys` gets each
 * field's key, for the wide layout's duplicate check.
 */
function fieldsOf(p: MetricPoint, layout: MetricLayout, out: string[], keys: string[]): LineSkipReason | undefined {
  out.length = 0;
  keys.length = 0;
  const w = p.window;
  const type = layout.def.valueType;
  if (!w) {
    const text = formatValue(p.value, type);
    if (text === 'not-finite' || text === 'not-an-integer') return text;
    out.push(`${layout.value}=${text}`);
    keys.push(layout.value);
  } else {
    for (const [key, f] of layout.windows) {
      const text = f === 'mean' ? formatValue(p.value, 'float') : f === 'count' ? formatValue(w.count, 'int') : formatValue(w[f], type);
      if (text === 'not-finite' || text === 'not-an-integer') return text;
      out.push(`${key}=${text}`);
      keys.push(key);
    }
  }
  // Hierarchy rollups say how many members were summed, so a missing node shows as a
  // lower count rather than a silent dip in the total.
  if (p.members !== undefined) {
    const text = formatValue(p.members, 'int');
    if (text === 'not-finite' || text === 'not-an-integer') return text;
    out.push(`${layout.members}=${text}`);
    keys.push(layout.members);
  }
  return undefined;
}

/** One wide line being built: its fields joined as they come, their keys for the duplicate check. */
interface WideLine {
  head: string;
  ts: string;
  keys: string[];
  fields: string;
}

/**
 * An entity's tag text, and in the wide layout its lines by measurement and time: a
 * point finds its line through its entity and two short keys, never by hashing the
 * whole line head. Entities whose tag texts are equal (they differ only in dropped
 * tags) share one.
 */
interface EntityLines {
  tagText: string;
  lines: Map<string, Map<number, WideLine>>;
}

/**
 * Metric points -> InfluxDB line protocol. Pure and deterministic: the same points
 * always give the same lines, so replays overwrite instead of duplicating.
 */
export function toLineProtocol(points: readonly MetricPoint[], options: LineProtocolOptions): LineProtocolResult {
  const keep = new Set(options.keepTags ?? []);
  const drop = new Set(HIGH_CARDINALITY_TAGS.filter((t) => !keep.has(t)));
  const precision = options.precision ?? 'ns';
  const wide = options.schema === 'wide';
  const skipped: LineProtocolResult['skipped'] = [];
  const lines: string[] = [];
  // wide: one line per measurement + tag set + timestamp, in first-seen order, fields in first-seen order.
  const wideLines: WideLine[] = [];
  const byText = new Map<string, EntityLines>();
  const byObject = new Map<object, Map<string, EntityLines>>();
  let prevType = '';
  let prevTags: Record<string, string> | undefined;
  let prevEntity: EntityLines | undefined;
  const fields: string[] = [];
  const keys: string[] = [];

  let lastMs = Number.NaN;
  let lastTs = '';
  for (const p of points) {
    // Windows in the heapster layout are fields of `value`: value_mean, value_max, ...
    const layout = layoutOf(p.metric, options.schema);
    if (!layout) {
      skipped.push({ point: p, reason: 'unknown-metric' });
      continue;
    }
    const bad = fieldsOf(p, layout, fields, keys);
    if (bad) {
      skipped.push({ point: p, reason: bad });
      continue;
    }
    // Points of one entity usually share one tags object: sort and escape it once.
    // Decoded batches give every point its own tags object, but a node's or pod's points
    // come one after another with equal tags: compare with the previous point first.
    let entity = prevTags && p.entityType === prevType && sameTags(p.tags, prevTags) ? prevEntity : byObject.get(p.tags)?.get(p.entityType);
    if (entity === undefined) {
      const tagText = tagString(p, drop);
      entity = byText.get(tagText);
      if (!entity) byText.set(tagText, (entity = { tagText, lines: new Map() }));
      const byType = byObject.get(p.tags) ?? new Map<string, EntityLines>();
      byType.set(p.entityType, entity);
      byObject.set(p.tags, byType);
    }
    prevType = p.entityType;
    prevTags = p.tags;
    prevEntity = entity;
    // Points of one cycle share their time: format it once.
    if (p.timestamp !== lastMs) {
      lastMs = p.timestamp;
      lastTs = formatTimestamp(lastMs, precision);
    }
    if (!wide) {
      lines.push(`${layout.measurement}${entity.tagText} ${fields.join(',')} ${lastTs}`);
      continue;
    }
    let byTime = entity.lines.get(layout.measurement);
    if (!byTime) entity.lines.set(layout.measurement, (byTime = new Map()));
    const line = byTime.get(p.timestamp);
    if (!line) {
      const created = { head: layout.measurement + entity.tagText, ts: lastTs, keys: [...keys], fields: fields.join(',') };
      byTime.set(p.timestamp, created);
      wideLines.push(created);
      continue;
    }
    // The same field twice in one line would be last-wins in InfluxDB; a batch with
    // duplicate points keeps the first, as the heapster layout's point order would.
    for (let i = 0; i < keys.length; i++) {
      if (line.keys.includes(keys[i]!)) continue;
      line.keys.push(keys[i]!);
      line.fields += `,${fields[i]!}`;
    }
  }
  for (const { head, ts, fields: text } of wideLines) lines.push(`${head} ${text} ${ts}`);
  return { lines, skipped };
}
