import { KafkaJSError, KafkaJSNonRetriableError } from 'kafkajs';

/** kafkajs marks transient failures (leader moves, broker restarts, timeouts) as retriable. */
export function isRetryableKafkaError(err: unknown): boolean {
  if (err instanceof KafkaJSNonRetriableError) return false;
  if (err instanceof KafkaJSError) return err.retriable;
  return false;
}
