// ESM face of kafkajs with every named export. kafkajs builds module.exports with a
// spread (...errors), which Node's CommonJS export detection cannot see, so
// `import { KafkaJSError } from 'kafkajs'` (libs/kafka/src/errors.ts) fails under
// plain Node + tsx. main.ts routes 'kafkajs' here until libs/kafka is fixed.
import { createRequire } from 'node:module';

const kafkajs = createRequire(import.meta.url)('kafkajs');
export default kafkajs;
export const { Kafka, PartitionAssigners, AssignerProtocol, Partitioners, logLevel, CompressionTypes, CompressionCodecs, ConfigResourceTypes, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes, ConfigSource, KafkaJSError, KafkaJSNonRetriableError, KafkaJSPartialMessageError, KafkaJSBrokerNotFound, KafkaJSProtocolError, KafkaJSConnectionError, KafkaJSConnectionClosedError, KafkaJSRequestTimeoutError, KafkaJSSASLAuthenticationError, KafkaJSNumberOfRetriesExceeded, KafkaJSOffsetOutOfRange, KafkaJSMemberIdRequired, KafkaJSGroupCoordinatorNotFound, KafkaJSNotImplemented, KafkaJSMetadataNotLoaded, KafkaJSTopicMetadataNotLoaded, KafkaJSStaleTopicMetadataAssignment, KafkaJSDeleteGroupsError, KafkaJSTimeout, KafkaJSLockTimeout, KafkaJSServerDoesNotSupportApiKey, KafkaJSUnsupportedMagicByteInMessageSet, KafkaJSDeleteTopicRecordsError, KafkaJSInvariantViolation, KafkaJSInvalidVarIntError, KafkaJSInvalidLongError, KafkaJSCreateTopicError, KafkaJSAggregateError, KafkaJSFetcherRebalanceError, KafkaJSNoBrokerAvailableError, KafkaJSAlterPartitionReassignmentsError } = kafkajs;
