import { z } from 'zod';
import { epochMs, nonEmpty } from './primitives.js';

/*
 * The last cumulative sample of a series, as metric-model's RateTracker keeps it (for a
 * consumer computing its own rates). The aggregator keeps the same values by column and
 * checkpoints them in its own binary state records (docs/aggregator.md).
 */

export const rateSeriesStateSchema = z.object({
  series: nonEmpty.describe('series key: metric, entity type and sorted tags (metric-model seriesKey)'),
  value: z.number(),
  timestamp: epochMs,
  startTime: epochMs.optional(),
});

export type RateSeriesState = z.infer<typeof rateSeriesStateSchema>;
