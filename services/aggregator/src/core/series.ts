import type { EntityType, MetricPoint } from '@heapstream/contracts';

/*
 * A series as one string, for the event counters' windows (few series, kept as tuples
 * with the key, see windows.ts `foldPoint`): metric, entity type and the sorted tags,
 * joined with control characters (which no metric name, tag key or tag value contains)
 * so it is cheap to build and can be parsed back. The tag part is cached per tags
 * object. The metric windows (millions of series) use entity ids instead: entities.ts.
 */

const tagParts = new WeakMap<Record<string, string>, string>();

function tagPart(tags: Record<string, string>): string {
  let s = tagParts.get(tags);
  if (s === undefined) {
    s = Object.keys(tags)
      .sort()
      .map((k) => `${k}\u0002${tags[k]}`)
      .join('\u0003');
    tagParts.set(tags, s);
  }
  return s;
}

const keys = new WeakMap<Record<string, string>, Map<string, string>>();

/** Interned per tags object: the same string instance every time, so Map lookups hash it once. */
export function windowSeriesKey(p: Pick<MetricPoint, 'metric' | 'entityType' | 'tags'>): string {
  let byMetric = keys.get(p.tags);
  if (!byMetric) keys.set(p.tags, (byMetric = new Map()));
  const id = p.entityType + p.metric;
  let key = byMetric.get(id);
  if (key === undefined) byMetric.set(id, (key = `${p.metric}\u0001${p.entityType}\u0001${tagPart(p.tags)}`));
  return key;
}

/** Key -> metric, entity type and tags (sorted by key): what a window point carries. */
export function parseSeriesKey(key: string): { metric: string; entityType: EntityType; tags: Record<string, string> } {
  const [metric = '', entityType = '', tagText = ''] = key.split('\u0001');
  const tags: Record<string, string> = {};
  if (tagText) {
    for (const kv of tagText.split('\u0003')) {
      const i = kv.indexOf('\u0002');
      tags[kv.slice(0, i)] = kv.slice(i + 1);
    }
  }
  return { metric, entityType: entityType as EntityType, tags };
}
