import { z } from 'zod';
import { createCodec } from './codec.js';
import { entityTypes, isEpochMs, isNonEmpty, isNumber, isObject, isTags, isUint, isWindow, resolutions } from './metric-points-check.js';
import { entityTypeSchema, resolutionSchema, windowSchema, type MetricPoint, type MetricPointBatch } from './metric-points.js';
import { epochMs, nonEmpty, uint } from './primitives.js';
import { SCHEMA_VERSIONS } from './version.js';

/*
 * Metric point batches, version 2: the same points as version 1 (`MetricPointBatch` is
 * still what producers give and readers get), grouped by entity on the wire. An entity's
 * type and tags are written once, and each of its points is a tuple
 * `[metric, timestamp, value]`, or `[metric, timestamp, value, {startTime, members,
 * window}]` when it has any of those. Version 1 repeated the tags on every point: the
 * aggregator's output was 2.7x larger, and encoding, compressing, decompressing and
 * parsing it was most of the aggregator's and storage-writer's CPU (docs/topics.md).
 */

export const pointExtrasSchema = z.object({
  startTime: epochMs.optional().describe('cumulative metrics: start of the counter (container/pod/node start)'),
  members: uint.optional().describe('hierarchy rollups: how many child entities were summed'),
  window: windowSchema.optional().describe('rollup topics: the native points that fell into the window'),
});

export const pointTupleSchema = z.union([
  z.tuple([nonEmpty.describe('catalogue metric name'), epochMs.describe("the sample's own time; for windows, the window start"), z.number().describe('for windows: sum/count')]),
  z.tuple([nonEmpty, epochMs, z.number(), pointExtrasSchema]),
]);

export const metricEntitySchema = z.object({
  entityType: entityTypeSchema,
  tags: z.record(z.string(), z.string()).describe('entity tags; keys from the metric-model TAGS constants'),
  points: z.array(pointTupleSchema),
});

export const metricPointsV2Schema = z
  .object({
    schemaVersion: z.string().regex(/^2\.\d+$/),
    cluster: nonEmpty,
    resolution: resolutionSchema,
    producedAt: epochMs,
    producer: z.string().optional().describe('service that produced the batch'),
    cycle: epochMs
      .optional()
      .describe(
        "since 2.1, native batches: start of the rollup cycle the points belong to (the scrape's finishedAt, floored to the cycle). Every point of one cycle shares it, so storage can stamp them alike, as Heapster did; the tuples keep the samples' own times",
      ),
    entities: z.array(metricEntitySchema).describe('points grouped by entity (type and tags), in first-seen order'),
  })
  .meta({ title: 'MetricPointBatch v2', description: 'A batch of metric points, native or windowed, grouped by entity' });

export type MetricPointsV2 = z.infer<typeof metricPointsV2Schema>;
type Extras = z.infer<typeof pointExtrasSchema>;
type Tuple = [string, number, number] | [string, number, number, Extras];

interface Group {
  entityType: MetricPoint['entityType'];
  tags: Record<string, string>;
  points: Tuple[];
}

/** Sorted `key=value` text of an entity, for grouping points whose tags are equal but not the same object. */
function entityText(entityType: string, tags: Record<string, string>): string {
  let text = entityType;
  for (const k of Object.keys(tags).sort()) text += `\u0000${k}\u0001${tags[k]}`;
  return text;
}

/**
 * Points -> groups by entity, in first-seen order, each keeping its points' order. Points
 * of one entity normally share one tags object: found by identity, without a text.
 */
export function groupByEntity(points: readonly MetricPoint[]): Group[] {
  const groups: Group[] = [];
  const byObject = new Map<Record<string, string>, Group[]>();
  const byText = new Map<string, Group>();
  for (const p of points) {
    let candidates = byObject.get(p.tags);
    let group = candidates?.find((g) => g.entityType === p.entityType);
    if (!group) {
      const text = entityText(p.entityType, p.tags);
      group = byText.get(text);
      if (!group) {
        group = { entityType: p.entityType, tags: p.tags, points: [] };
        groups.push(group);
        byText.set(text, group);
      }
      if (!candidates) byObject.set(p.tags, (candidates = []));
      candidates.push(group);
    }
    const extras: Extras = {};
    let has = false;
    if (p.startTime !== undefined) {
      extras.startTime = p.startTime;
      has = true;
    }
    if (p.members !== undefined) {
      extras.members = p.members;
      has = true;
    }
    if (p.window !== undefined) {
      extras.window = p.window;
      has = true;
    }
    group.points.push(has ? [p.metric, p.timestamp, p.value, extras] : [p.metric, p.timestamp, p.value]);
  }
  return groups;
}

// ---- decoding: check and expand in one pass -------------------------------------------

/** One tuple as a point sharing the entity's tags object, or undefined when it is not exactly valid. */
function pointOf(t: unknown, entityType: MetricPoint['entityType'], tags: Record<string, string>): MetricPoint | undefined {
  if (!Array.isArray(t) || t.length < 3 || t.length > 4) return undefined;
  const [metric, timestamp, value, extras] = t as unknown[];
  if (!isNonEmpty(metric) || !isEpochMs(timestamp) || !isNumber(value)) return undefined;
  const p: MetricPoint = { metric, entityType, tags, timestamp, value };
  if (t.length === 4) {
    if (!isObject(extras)) return undefined;
    for (const k in extras) {
      const x = extras[k];
      if (k === 'startTime' && isEpochMs(x)) p.startTime = x;
      else if (k === 'members' && isUint(x)) p.members = x;
      else if (k === 'window' && isWindow(x)) p.window = x;
      else return undefined;
    }
  }
  return p;
}

const BATCH_KEYS = new Set(['schemaVersion', 'cluster', 'resolution', 'producedAt', 'producer', 'cycle', 'entities']);

/** The batch, or undefined when `json` is not exactly what the schema accepts (zod then explains or strips). */
export function expandExact(json: Record<string, unknown>): MetricPointBatch | undefined {
  const { schemaVersion, cluster, resolution, producedAt, producer, cycle, entities } = json;
  for (const k in json) if (!BATCH_KEYS.has(k)) return undefined;
  if (typeof schemaVersion !== 'string' || !/^2\.\d+$/.test(schemaVersion) || !isNonEmpty(cluster) || !resolutions.has(resolution) || !isEpochMs(producedAt)) return undefined;
  if (producer !== undefined && typeof producer !== 'string') return undefined;
  if (cycle !== undefined && !isEpochMs(cycle)) return undefined;
  if (!Array.isArray(entities)) return undefined;
  const points: MetricPoint[] = [];
  for (const e of entities) {
    if (!isObject(e)) return undefined;
    for (const k in e) if (k !== 'entityType' && k !== 'tags' && k !== 'points') return undefined;
    const { entityType, tags, points: tuples } = e;
    if (!entityTypes.has(entityType) || !isTags(tags) || !Array.isArray(tuples)) return undefined;
    for (const t of tuples) {
      const p = pointOf(t, entityType as MetricPoint['entityType'], tags);
      if (!p) return undefined;
      points.push(p);
    }
  }
  return { schemaVersion, cluster, resolution: resolution as MetricPointBatch['resolution'], producedAt, ...(producer !== undefined ? { producer } : {}), ...(cycle !== undefined ? { cycle } : {}), points };
}

/** A zod-accepted (possibly stripped) value as the batch. */
export function expandParsed(v: MetricPointsV2): MetricPointBatch {
  const points: MetricPoint[] = [];
  for (const e of v.entities) {
    for (const [metric, timestamp, value, extras] of e.points as Tuple[]) {
      const p: MetricPoint = { metric, entityType: e.entityType, tags: e.tags, timestamp, value };
      if (extras?.startTime !== undefined) p.startTime = extras.startTime;
      if (extras?.members !== undefined) p.members = extras.members;
      if (extras?.window !== undefined) p.window = extras.window;
      points.push(p);
    }
  }
  return {
    schemaVersion: v.schemaVersion,
    cluster: v.cluster,
    resolution: v.resolution,
    producedAt: v.producedAt,
    ...(v.producer !== undefined ? { producer: v.producer } : {}),
    ...(v.cycle !== undefined ? { cycle: v.cycle } : {}),
    points,
  };
}

/**
 * The codec of the metric topics: `encode` takes a MetricPointBatch and writes version 2;
 * `decode` reads version 2 into a MetricPointBatch whose points share their entity's tags
 * object (readers may rely on that to do per-entity work once). Never throws on decode.
 */
export const metricPointsV2Codec = createCodec<MetricPointsV2, MetricPointBatch>('metric-points', SCHEMA_VERSIONS.metricPoints, metricPointsV2Schema, {
  exact: expandExact,
  fromWire: expandParsed,
  toWire: (batch) => ({
    cluster: batch.cluster,
    resolution: batch.resolution,
    producedAt: batch.producedAt,
    ...(batch.producer !== undefined ? { producer: batch.producer } : {}),
    ...(batch.cycle !== undefined ? { cycle: batch.cycle } : {}),
    entities: groupByEntity(batch.points),
  }),
});
