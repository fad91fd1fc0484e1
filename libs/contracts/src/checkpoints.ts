import { z } from 'zod';
import { epochMs, nonEmpty } from './primitives.js';

/*
 * The last cumulative sample of a series, as rate computations keep it (metric-model
 * RateTracker) and the aggregator checkpoints it inside its own state records.
 */

export const rateSeriesStateSchema = z.object({
  series: nonEmpty.describe('series key: metric, entity type and sorted tags (metric-model seriesKey)'),
  value: z.number(),
  timestamp: epochMs,
  startTime: epochMs.optional(),
});

export type RateSeriesState = z.infer<typeof rateSeriesStateSchema>;
