export { kafkaConfigSchema, type KafkaConfig } from './config.js';
export { createKafka } from './client.js';
export { compressionOf, configureCompression, COMPRESSIONS, type Compression } from './compression.js';
export { ensureTopics, waitForLeaders, partitionCount, consumerLag, type TopicSpec } from './topics.js';
export { isRetryableKafkaError } from './errors.js';
export { KafkaBatchTransport, type KafkaBatch, type KafkaBatchTransportOptions } from './batch-transport.js';
export { CompactedStore } from './compacted-store.js';
export { readPartitionRange, readPartitionRanges, type PartitionRange } from './read-range.js';
export { chunkBySize, splitSends, DEFAULT_MAX_SEND_BYTES } from './send-limits.js';
