export { influxConfigSchema, tierTargets, parseInfluxDuration, formatInfluxDuration, TIERS, type InfluxConfig, type Tier, type TierTarget } from './config.js';
export { InfluxWriteError, isRetryableWriteError, classifyResponse, parseRetryAfter, rejectReason, type WriteErrorKind, type RejectReason } from './errors.js';
export { postLines, influxQl, ping, quoteIdent, authHeaders, type InfluxEndpoint, type InfluxQlSeries } from './http.js';
export { parseLineHead, linesNamedBy, droppedCount } from './line-parse.js';
export { InfluxWriter, type WriteResult, type RejectedLine, type WriteHooks, type InfluxWriterOptions } from './writer.js';
export { ensureRetentionPolicies, shardDurationFor, type RetentionPolicyChange } from './setup.js';
export { endpointOf } from './endpoint.js';
export { ensureBuckets, type BucketChange } from './buckets.js';
