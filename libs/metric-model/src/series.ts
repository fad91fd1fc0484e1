import type { MetricPoint } from '@heapstream/contracts';

/** Identity of a time series: metric, entity type and the sorted tag set. */
export function seriesKey(p: Pick<MetricPoint, 'metric' | 'entityType' | 'tags'>): string {
  const tags = Object.keys(p.tags)
    .sort()
    .map((k) => [k, p.tags[k]]);
  return JSON.stringify([p.metric, p.entityType, tags]);
}
