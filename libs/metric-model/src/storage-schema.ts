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

interface Field {
  key: string;
  text: string;
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
 * A point's fields: `name=value` for native points; for window points the metric's
 * window summaries (`windowFieldsOf`: `name_mean`, `_min`, `_max` for gauges and rates),
 * mean a float and count an int, the others the metric's type, so a field never changes
 * type between resolutions; rollup points also get `name_members` (int).
 */
function fieldsOf(p: MetricPoint, layout: MetricLayout): Field[] | LineSkipReason {
  const w = p.window;
  const type = layout.def.valueType;
  const out: Field[] = [];
  const add = (key: string, value: number, t: ValueType): LineSkipReason | undefined => {
    const text = formatValue(value, t);
    if (text === 'not-finite' || text === 'not-an-integer') return text;
    out.push({ key, text });
    return undefined;
  };
  if (!w) {
    const bad = add(layout.value, p.value, type);
    if (bad) return bad;
  } else {
    for (const [key, f] of layout.windows) {
      const bad = f === 'mean' ? add(key, p.value, 'float') : f === 'count' ? add(key, w.count, 'int') : add(key, w[f], type);
      if (bad) return bad;
    }
  }
  // Hierarchy rollups say how many members were summed, so a missing node shows as a
  // lower count rather than a silent dip in the total.
  if (p.members !== undefined) {
    const bad = add(layout.members, p.members, 'int');
    if (bad) return bad;
  }
  return out;
}

/**
 * Metric points -> InfluxDB line protocol. Pure and deterministic: the same points
 * always give the same lines, so replays overwrite instead of duplicating.
 */
export function toLineProtocol(points: readonly MetricPoint[], options: LineProtocolOptions): LineProtocolResult {
  const keep = new Set(options.keepTags ?? []);
  const drop = new Set(HIGH_CARDINALITY_TAGS.filter((t) => !keep.has(t)));
  const precision = options.precision ?? 'ns';
  const skipped: LineProtocolResult['skipped'] = [];
  const lines: string[] = [];
  // wide: one line per measurement + tag set + timestamp, fields in first-seen order.
  const wide = new Map<string, { head: string; ts: string; fields: Field[] }>();
  const tagCache = new Map<object, Map<string, string>>();
  let prev: { entityType: string; tags: Record<string, string>; text: string } = { entityType: '', tags: {}, text: '' };

  let lastMs = Number.NaN;
  let lastTs = '';
  for (const p of points) {
    // Windows in the heapster layout are fields of `value`: value_mean, value_max, ...
    const layout = layoutOf(p.metric, options.schema);
    if (!layout) {
      skipped.push({ point: p, reason: 'unknown-metric' });
      continue;
    }
    const fields = fieldsOf(p, layout);
    if (typeof fields === 'string') {
      skipped.push({ point: p, reason: fields });
      continue;
    }
    // Points of one entity usually share one tags object: sort and escape it once.
    // Decoded batches give every point its own tags object, but a node's or pod's points
    // come one after another with equal tags: compare with the previous point first.
    let tagText = p.entityType === prev.entityType && sameTags(p.tags, prev.tags) ? prev.text : tagCache.get(p.tags)?.get(p.entityType);
    if (tagText === undefined) {
      tagText = tagString(p, drop);
      const byType = tagCache.get(p.tags) ?? new Map<string, string>();
      byType.set(p.entityType, tagText);
      tagCache.set(p.tags, byType);
    }
    prev = { entityType: p.entityType, tags: p.tags, text: tagText };
    const head = layout.measurement + tagText;
    // Points of one cycle share their time: format it once.
    if (p.timestamp !== lastMs) {
      lastMs = p.timestamp;
      lastTs = formatTimestamp(lastMs, precision);
    }
    const ts = lastTs;
    if (options.schema === 'heapster') {
      let text = `${head} ${fields[0]!.key}=${fields[0]!.text}`;
      for (let i = 1; i < fields.length; i++) text += `,${fields[i]!.key}=${fields[i]!.text}`;
      lines.push(`${text} ${ts}`);
      continue;
    }
    const key = `${head} ${ts}`;
    const line = wide.get(key);
    if (line) {
      // The same field twice in one line would be last-wins in InfluxDB; a batch with
      // duplicate points keeps the first, as the heapster layout's point order would.
      for (const f of fields) if (!line.fields.some((x) => x.key === f.key)) line.fields.push(f);
    } else wide.set(key, { head, ts, fields: [...fields] });
  }
  for (const { head, ts, fields } of wide.values()) lines.push(`${head} ${fields.map((f) => `${f.key}=${f.text}`).join(',')} ${ts}`);
  return { lines, skipped };
}
