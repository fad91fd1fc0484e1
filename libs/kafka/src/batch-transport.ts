import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import type { Consumer, ConsumerConfig, Kafka, KafkaMessage } from 'kafkajs';
import { lastValueFrom } from 'rxjs';
import type { Logger, StageMetrics } from '@heapstream/observability';

/** What a handler receives: one partition's batch, handled as a unit. */
export interface KafkaBatch {
  topic: string;
  partition: number;
  messages: KafkaMessage[];
  /** The offset to commit once this batch's effect is durable (last offset + 1). */
  nextOffset: string;
  /**
   * Where this fetch started: the first record's offset counting transaction markers and
   * aborted records, which `messages` leaves out (so the first message may come later).
   */
  firstOffset: string;
  /**
   * True when this process fetched the partition's previous records and this batch
   * starts right after them (transaction markers included). False for the first batch
   * after an assignment, and after a redelivery or another consumer's progress moved
   * the position: state kept from earlier batches may be stale.
   */
  continuesPrevious: boolean;
  consumerGroupId: string;
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the partition was reassigned: stop early. */
  isRunning(): boolean;
}

export interface KafkaBatchTransportOptions {
  kafka: Kafka;
  groupId: string;
  topics: string[];
  fromBeginning?: boolean;
  /**
   * 'after-handler': the transport commits the batch's offsets after the handler resolved
   * (use when the effect is an external write, e.g. InfluxDB).
   * 'by-handler': the handler commits them itself inside its Kafka transaction (sendOffsets).
   */
  commit: 'after-handler' | 'by-handler';
  logger: Logger;
  metrics?: StageMetrics;
  consumer?: Partial<ConsumerConfig>;
}

/**
 * A @nestjs/microservices transport around a kafkajs batch consumer. Controllers
 * handle a topic with `@EventPattern(topicName)` and receive a whole `KafkaBatch`;
 * offsets are committed only after the handler's promise resolves. A handler that
 * throws leaves the offsets where they were: kafkajs backs off and redelivers, so
 * retryable failures (InfluxDB down, broker moving) pause intake without loss.
 */
export class KafkaBatchTransport extends Server implements CustomTransportStrategy {
  private consumer?: Consumer;
  private lastBatchAtMs?: number;
  private joined = false;

  constructor(private readonly options: KafkaBatchTransportOptions) {
    super();
  }

  /** When a batch was last handled; readiness uses it with the lag. */
  get lastBatchAt(): number | undefined {
    return this.lastBatchAtMs;
  }

  /** Per `topic:partition`, the offset the next fetch starts at if nothing moves it. */
  private readonly positions = new Map<string, bigint>();

  get isJoined(): boolean {
    return this.joined;
  }

  async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      await this.start();
      callback();
    } catch (err) {
      callback(err);
    }
  }

  private async start(): Promise<void> {
    const { kafka, groupId, topics, logger } = this.options;
    const consumer = kafka.consumer({
      groupId,
      sessionTimeout: 30_000,
      heartbeatInterval: 3_000,
      maxBytesPerPartition: 4 * 1024 * 1024,
      retry: { initialRetryTime: 300, maxRetryTime: 30_000, retries: 8, restartOnFailure: async () => true },
      ...this.options.consumer,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => (this.joined = true));
    // Batches of only transaction markers (or aborted records) never reach eachBatch, but
    // kafkajs moves past them and reports it here.
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => this.positions.set(`${payload.topic}:${payload.partition}`, BigInt(payload.lastOffset) + 1n));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.joined = false;
      logger.warn({ err: payload.error, restart: payload.restart }, 'kafka consumer crashed; it restarts from the last committed offsets');
    });
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: this.options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        // Where the fetch started (kafkajs keeps it on the batch, untyped) and where the next
        // one will: past the batch's last record, transaction markers included.
        const fetched = (batch as unknown as { fetchedOffset?: string }).fetchedOffset ?? batch.firstOffset() ?? batch.messages[0]?.offset;
        const position = `${batch.topic}:${batch.partition}`;
        const continuesPrevious = fetched !== undefined && this.positions.get(position) === BigInt(fetched);
        this.positions.set(position, BigInt(batch.lastOffset()) + 1n);
        if (batch.messages.length === 0 || !isRunning() || isStale()) return;
        const handler = this.getHandlerByPattern(batch.topic);
        if (!handler) throw new Error(`no handler for topic ${batch.topic}`);
        const last = batch.messages[batch.messages.length - 1]!.offset;
        const nextOffset = (BigInt(last) + 1n).toString();
        const started = process.hrtime.bigint();
        const payload: KafkaBatch = {
          topic: batch.topic,
          partition: batch.partition,
          messages: batch.messages,
          nextOffset,
          firstOffset: fetched ?? batch.messages[0]!.offset,
          continuesPrevious,
          consumerGroupId: groupId,
          heartbeat,
          isRunning: () => isRunning() && !isStale(),
        };
        const result = await handler(payload);
        await lastValueFrom(this.transformToObservable(result), { defaultValue: undefined });
        resolveOffset(last);
        if (this.options.commit === 'after-handler') {
          await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: nextOffset }]);
        }
        this.lastBatchAtMs = Date.now();
        const stage = `consume:${batch.topic}`;
        this.options.metrics?.batchSize.observe({ stage }, batch.messages.length);
        this.options.metrics?.duration.observe({ stage }, Number(process.hrtime.bigint() - started) / 1e9);
        this.options.metrics?.lag.set({ topic: batch.topic, partition: String(batch.partition) }, Math.max(0, Number(BigInt(batch.highWatermark) - BigInt(nextOffset))));
      },
    });
  }

  on(): never {
    throw new Error('KafkaBatchTransport has no events to subscribe to');
  }

  unwrap<T>(): T {
    return this.consumer as T;
  }

  async close(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    this.joined = false;
    await consumer?.disconnect();
  }
}
