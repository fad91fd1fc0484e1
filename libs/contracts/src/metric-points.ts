import { z } from 'zod';
import { epochMs, nonEmpty, uint } from './primitives.js';

/*
 * A batch of metric points: the enriched topic (native resolution) and the 1m/1h
 * rollup topics all carry this shape. One record holds many points (typically one
 * node scrape's worth); never one record per value, which is what sank Heapster's
 * Kafka sink. Points are flat (tags repeat per point): the simplest thing for other
 * consumers, and Kafka batch compression removes the repetition.
 */

export const ENTITY_TYPES = ['cluster', 'node', 'sys_container', 'ns', 'workload', 'pod', 'pod_container'] as const;
export const entityTypeSchema = z.enum(ENTITY_TYPES);
export type EntityType = z.infer<typeof entityTypeSchema>;

export const RESOLUTIONS = ['native', '1m', '1h'] as const;
export const resolutionSchema = z.enum(RESOLUTIONS);
export type Resolution = z.infer<typeof resolutionSchema>;

/** Summary of the native points that fell into one window (rollup topics only). */
export const windowSchema = z.object({
  start: epochMs.describe('inclusive window start'),
  end: epochMs.describe('exclusive window end'),
  min: z.number(),
  max: z.number(),
  sum: z.number(),
  count: uint.describe('native points in the window'),
  last: z.number().describe('value of the latest native point'),
});

export const metricPointSchema = z.object({
  metric: nonEmpty.describe('catalogue name, e.g. cpu/usage_rate'),
  entityType: entityTypeSchema,
  tags: z.record(z.string(), z.string()).describe('entity tags; keys from the metric-model TAGS constants'),
  timestamp: epochMs.describe("the sample's own time; for windows, the window start"),
  value: z.number().describe('for windows: sum/count'),
  startTime: epochMs.optional().describe('cumulative metrics: start of the counter (container/pod/node start)'),
  members: uint.optional().describe('hierarchy rollups: how many child entities were summed'),
  window: windowSchema.optional(),
});

export const metricPointBatchSchema = z
  .object({
    schemaVersion: z.string().regex(/^1\.\d+$/),
    cluster: nonEmpty,
    resolution: resolutionSchema,
    producedAt: epochMs,
    producer: z.string().optional().describe('service that produced the batch'),
    points: z.array(metricPointSchema),
  })
  .meta({ title: 'MetricPointBatch', description: 'A batch of metric points, native or windowed' });

export type Window = z.infer<typeof windowSchema>;
export type MetricPoint = z.infer<typeof metricPointSchema>;
/**
 * What producers give and readers get, whatever the topic version: version 1's fields,
 * plus `cycle` (version 2.1 on; see metric-points-v2.ts).
 */
export type MetricPointBatch = z.infer<typeof metricPointBatchSchema> & { cycle?: number };
