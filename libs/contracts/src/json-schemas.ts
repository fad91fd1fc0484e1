import { z } from 'zod';
import { eventEmittedSchema, eventWatchPositionSchema } from './events/event-checkpoint.js';
import { eventRecordSchema } from './events/event-record.js';
import { heapsterEventSchema } from './events/heapster-event.js';
import { deadLetterSchema } from './dead-letter.js';
import { metricPointBatchSchema } from './metric-points.js';
import { metricPointsV2Schema } from './metric-points-v2.js';
import { rawScrapeSchema } from './raw-scrape.js';

/** The JSON Schema files published in libs/contracts/schemas/, by file name. */
const SOURCES: Record<string, z.ZodType> = {
  'raw-scrape.v1.json': rawScrapeSchema,
  'metric-points.v2.json': metricPointsV2Schema,
  // The .v1 metric topics of earlier releases.
  'metric-points.v1.json': metricPointBatchSchema,
  'dead-letter.v1.json': deadLetterSchema,
  // Event schemas are defined in src/events/ (event-watcher); published here with the rest.
  'event-record.v1.json': eventRecordSchema,
  'event-watch-position.v1.json': eventWatchPositionSchema,
  'event-emitted.v1.json': eventEmittedSchema,
  'heapster-event.json': heapsterEventSchema,
};

/**
 * File name -> file text. `io: 'input'` keeps objects open (no additionalProperties:
 * false) so a reader validating with an older file accepts a newer minor version.
 */
export function renderJsonSchemas(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [file, schema] of Object.entries(SOURCES)) {
    out[file] = `${JSON.stringify(z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12' }), null, 2)}\n`;
  }
  return out;
}
