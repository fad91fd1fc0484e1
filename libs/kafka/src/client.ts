import { Kafka, logLevel, type KafkaConfig as KafkaJsConfig, type SASLOptions } from 'kafkajs';
import type { Logger } from '@heapstream/observability';
import { configureCompression } from './compression.js';
import type { KafkaConfig } from './config.js';

const levels: Record<number, 'error' | 'warn' | 'info' | 'debug'> = {
  [logLevel.ERROR]: 'error',
  [logLevel.WARN]: 'warn',
  [logLevel.INFO]: 'info',
  [logLevel.DEBUG]: 'debug',
};

/**
 * Broker answers kafkajs logs at error level (`Response <API>`) although it handles them,
 * refreshing metadata or retrying, and they clear on their own in a healthy cluster: a
 * topic or leader a moment old, a transaction the broker is still closing, a group
 * rebalancing or its coordinator moving. Logged at info, so that an error line means one;
 * a request that finally fails reaches heapstream's code, which logs it itself.
 */
const TRANSIENT =
  /not the leader for that topic-partition|does not host this topic-partition|another concurrent operation on the same transaction|group is rebalancing|coordinator is not available|not the correct coordinator|coordinator is loading/i;

/**
 * A kafkajs client whose log lines go through the service logger (never the credentials).
 * Also sets the process's compression level (KAFKA_COMPRESSION_LEVEL).
 */
export function createKafka(config: KafkaConfig, logger: Logger, clientId = config.KAFKA_CLIENT_ID ?? 'heapstream'): Kafka {
  configureCompression(config);
  const sasl: SASLOptions | undefined = config.KAFKA_SASL_MECHANISM
    ? ({ mechanism: config.KAFKA_SASL_MECHANISM, username: config.KAFKA_SASL_USERNAME ?? '', password: config.KAFKA_SASL_PASSWORD ?? '' } as SASLOptions)
    : undefined;
  const options: KafkaJsConfig = {
    clientId,
    brokers: config.KAFKA_BROKERS,
    ssl: config.KAFKA_SSL,
    ...(sasl ? { sasl } : {}),
    // Reconnect for as long as the service lives: a broker restart must never end intake (Heapster #2017).
    retry: { initialRetryTime: 300, maxRetryTime: 30_000, retries: 10 },
    logLevel: logLevel.WARN,
    logCreator: () => ({ level, log }) => {
      const { message, ...extra } = log;
      const transient = level === logLevel.ERROR && message.startsWith('Response ') && TRANSIENT.test(String(extra.error ?? ''));
      logger[transient ? 'info' : (levels[level] ?? 'info')]({ kafka: extra }, `kafka: ${message}`);
    },
  };
  return new Kafka(options);
}

