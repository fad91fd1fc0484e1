import type { Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import { deadLetterCodec, toPayload } from '@heapstream/contracts';
import { compressionOf, connectFenced, internalCompressionOf, isRetryableKafkaError, splitSends, type KafkaBatch, type KafkaConfig } from '@heapstream/kafka';
import { retryAtBoot, type Logger, type StageMetrics } from '@heapstream/observability';

/** What every owned input partition has: the producer that fences other owners, and how far its checkpoint reaches. */
export interface PartitionRun {
  producer: Producer;
  /** Input records below this offset are already in the checkpoint (and their output committed). */
  nextOffset: bigint;
}

export interface PartitionTransactionsOptions {
  kafka: Kafka;
  kafkaConfig: Pick<KafkaConfig, 'KAFKA_COMPRESSION'>;
  logger: Logger;
  metrics: StageMetrics;
  /** Metrics stage label, e.g. `aggregate`. */
  stage: string;
  /** What `prepare` sets up, for the boot-retry log line. */
  what: string;
  transactionalId: (partition: number) => string;
}

/**
 * Consume -> compute -> produce, exactly once, for any per-partition computation. Each
 * input partition gets its own transactional producer: opening it fences any previous
 * owner and aborts its open transaction, then the subclass restores the partition's
 * checkpoint and processes the batch, and `commit` puts its outputs, checkpoint and the
 * consumer offsets in one transaction. Any failure aborts it, forgets the partition's
 * in-memory state and rethrows, so the batch is redelivered and recomputed from the last
 * committed checkpoint.
 */
export abstract class PartitionTransactions<Run extends PartitionRun> {
  private readonly runs = new Map<number, Run>();
  private prepared: Promise<void> | undefined;
  private closed = false;
  private lastBatchAt?: number;

  constructor(protected readonly base: PartitionTransactionsOptions) {}

  get lastBatchTime(): number | undefined {
    return this.lastBatchAt;
  }

  /** Topics and metadata, retried while Kafka is not ready. Idempotent. */
  prepare(): Promise<void> {
    return (this.prepared ??= retryAtBoot(this.base.what, () => this.prepareOnce(), { isRetryable: isRetryableKafkaError, logger: this.base.logger }).catch((err: unknown) => {
      this.prepared = undefined;
      throw err;
    }));
  }

  protected abstract prepareOnce(): Promise<void>;
  /** The partition's state from its checkpoint, owned by `producer` from now on. */
  protected abstract restore(partition: number, producer: Producer): Promise<Run>;
  /** Computes the batch and calls `commit` once with everything it produced. */
  protected abstract process(run: Run, batch: KafkaBatch): Promise<void>;

  async handleBatch(batch: KafkaBatch): Promise<void> {
    if (this.closed) throw new Error('aggregator is shutting down');
    // Batches wait for prepare: with several transports Nest may start consuming before every module hook has run.
    await this.prepare();
    let run = this.runs.get(batch.partition);
    // A batch that does not continue where the last one ended means the partition moved
    // away and back (a rebalance; another instance may have processed records) or was
    // redelivered: our state may be stale, reload it. (Comparing the first record's offset
    // with ours would not do: a transaction marker takes an offset, so after input written
    // in transactions every batch would look like a gap.)
    if (run && !batch.continuesPrevious) {
      const first = batch.firstOffset;
      this.base.logger.info({ topic: batch.topic, partition: batch.partition, had: run.nextOffset.toString(), got: first }, 'partition moved away and back: reloading its state');
      await this.forget(batch.partition);
      run = undefined;
    }
    // Restoring (reading the checkpoint, replaying input) can take seconds: keep the
    // group membership alive meanwhile, or the partition moves while we rebuild it.
    const ticker = setInterval(() => void batch.heartbeat().catch(() => undefined), 1000);
    try {
      run ??= await this.open(batch.partition);
      await this.process(run, batch);
    } catch (err) {
      this.base.metrics.errors.inc({ stage: this.base.stage, type: err instanceof Error ? err.name : 'unknown' });
      this.base.logger.warn({ err, topic: batch.topic, partition: batch.partition }, 'batch failed; its transaction is aborted and the partition is reloaded from its checkpoint');
      await this.forget(batch.partition);
      throw err;
    } finally {
      clearInterval(ticker);
    }
    this.lastBatchAt = Date.now();
  }

  private async open(partition: number): Promise<Run> {
    const producer = this.base.kafka.producer({ transactionalId: this.base.transactionalId(partition), idempotent: true, maxInFlightRequests: 1, transactionTimeout: 60_000 });
    try {
      // Fenced before the checkpoint and the committed offset are read: a previous owner
      // can no longer commit output this restore does not see.
      await connectFenced(producer);
      const run = await this.restore(partition, producer);
      this.runs.set(partition, run);
      return run;
    } catch (err) {
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
  }

  private async forget(partition: number): Promise<void> {
    const run = this.runs.get(partition);
    this.runs.delete(partition);
    await run?.producer.disconnect().catch(() => undefined);
  }

  /**
   * Outputs, checkpoint and the consumer offsets of `batch`, in one transaction. `more`
   * (a snapshot) is produced lazily while the transaction sends it, a chunk at a time;
   * every send is cut to the broker's record batch limit (splitSends).
   */
  protected async commit(run: Run, batch: KafkaBatch, topicMessages: TopicMessages[], more: Iterable<TopicMessages> = []): Promise<void> {
    await batch.heartbeat();
    const txn = await run.producer.transaction();
    try {
      // Several sends when large: each under the broker's record batch limit.
      const compression = compressionOf(this.base.kafkaConfig);
      for (const send of splitSends(topicMessages)) await txn.sendBatch({ topicMessages: send, compression });
      // The checkpoint is internal and binary: zstd (internalCompressionOf).
      const stateCompression = internalCompressionOf(this.base.kafkaConfig);
      for (const chunk of more) for (const send of splitSends([chunk])) await txn.sendBatch({ topicMessages: send, compression: stateCompression });
      await txn.sendOffsets({ consumerGroupId: batch.consumerGroupId, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: batch.nextOffset }] }] });
      await txn.commit();
    } catch (err) {
      await txn.abort().catch(() => undefined);
      throw err;
    }
    run.nextOffset = BigInt(batch.nextOffset);
  }

  /** A dead letter for an input record, counted; its time is the record's, so replays are identical. */
  protected deadLetter(batch: KafkaBatch, m: KafkaBatch['messages'][number], reason: string, error: string): Message {
    this.base.metrics.discarded.inc({ stage: this.base.stage, reason });
    return {
      key: m.key,
      value: deadLetterCodec.encode({
        source: { topic: batch.topic, partition: batch.partition, offset: m.offset },
        key: toPayload(m.key),
        value: toPayload(m.value),
        reason: `aggregator:${reason}`,
        error,
        time: Number(m.timestamp),
        service: 'aggregator',
      }),
      headers: deadLetterCodec.headers(),
    };
  }

  /** Stops taking batches and releases the producers (the consumer was stopped first). */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of [...this.runs.keys()]) await this.forget(p);
  }
}
