import { createCodec } from './codec.js';
import { deadLetterSchema } from './dead-letter.js';
import { isExactMetricPointBatch } from './metric-points-check.js';
import { metricPointBatchSchema } from './metric-points.js';
import { rawScrapeSchema } from './raw-scrape.js';
import { SCHEMA_VERSIONS } from './version.js';

export const rawScrapeCodec = createCodec('raw-scrape', SCHEMA_VERSIONS.rawScrape, rawScrapeSchema);
export const metricPointBatchCodec = createCodec('metric-points', SCHEMA_VERSIONS.metricPoints, metricPointBatchSchema, isExactMetricPointBatch);
export const deadLetterCodec = createCodec('dead-letter', SCHEMA_VERSIONS.deadLetter, deadLetterSchema);
