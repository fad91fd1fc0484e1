import { createCodec } from './codec.js';
import { deadLetterSchema } from './dead-letter.js';
import { isExactMetricPointBatch } from './metric-points-check.js';
import { metricPointsV2Codec } from './metric-points-v2.js';
import { metricPointBatchSchema } from './metric-points.js';
import { rawScrapeSchema } from './raw-scrape.js';
import { SCHEMA_VERSIONS } from './version.js';

export const rawScrapeCodec = createCodec('raw-scrape', SCHEMA_VERSIONS.rawScrape, rawScrapeSchema);
/** The metric topics' codec: version 2 on the wire (grouped by entity), MetricPointBatch in memory. */
export const metricPointBatchCodec = metricPointsV2Codec;
/** Version 1 (one object per point, tags repeated), for reading the `.v1` topics of earlier releases. */
export const metricPointBatchV1Codec = createCodec('metric-points', '1.0', metricPointBatchSchema, { exact: (json) => (isExactMetricPointBatch(json) ? json : undefined) });
export const deadLetterCodec = createCodec('dead-letter', SCHEMA_VERSIONS.deadLetter, deadLetterSchema);
