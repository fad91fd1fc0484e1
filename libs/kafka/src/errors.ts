import kafkajs from 'kafkajs';

// kafkajs is CommonJS and spreads its error classes into module.exports, which Node's
// ESM loader cannot see as named exports: take them from the default export.
const { KafkaJSError, KafkaJSNonRetriableError } = kafkajs;

/** kafkajs marks transient failures (leader moves, broker restarts, timeouts) as retriable. */
export function isRetryableKafkaError(err: unknown): boolean {
  if (err instanceof KafkaJSNonRetriableError) return false;
  if (err instanceof KafkaJSError) return err.retriable;
  return false;
}
