import { z } from 'zod';
import { epochMs, nonEmpty } from './primitives.js';

/*
 * State kept in compacted topics so a restart loses nothing. Raw records are keyed by
 * node, so every series of a node lives on one partition: the rate state is
 * checkpointed per node (key `<cluster>/<node>`), and a tombstone (null value)
 * forgets a deleted node.
 */

export const rateSeriesStateSchema = z.object({
  series: nonEmpty.describe('series key: metric, entity type and sorted tags (metric-model seriesKey)'),
  value: z.number(),
  timestamp: epochMs,
  startTime: epochMs.optional(),
});

export const rateCheckpointSchema = z
  .object({
    schemaVersion: z.string().regex(/^1\.\d+$/),
    cluster: nonEmpty,
    node: nonEmpty,
    updatedAt: epochMs,
    series: z.array(rateSeriesStateSchema),
  })
  .meta({ title: 'RateCheckpoint', description: 'Last cumulative sample per series of one node' });

export type RateSeriesState = z.infer<typeof rateSeriesStateSchema>;
export type RateCheckpoint = z.infer<typeof rateCheckpointSchema>;
