import type { Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import { deadLetterCodec, metricPointBatchCodec, rawScrapeCodec, toPayload } from '@heapstream/contracts';
import { CompactedStore, compressionOf, ensureTopics, isRetryableKafkaError, type KafkaBatch, type KafkaConfig } from '@heapstream/kafka';
import { retryAtBoot, type Logger, type StageMetrics } from '@heapstream/observability';
import type { MetadataSource } from './core/enrich.js';
import { PartitionProcessor, type ProcessorSettings, type Stream } from './core/processor.js';
import { decodeState, encodeOwner, encodePartition, metaKey, ownerKey } from './core/state.js';
import type { Topics } from './config.js';

export interface EngineOptions {
  kafka: Kafka;
  kafkaConfig: Pick<KafkaConfig, 'KAFKA_COMPRESSION'>;
  topics: Topics;
  groupId: string;
  transactionalIdPrefix: string;
  settings: ProcessorSettings;
  metadata?: MetadataSource;
  logger: Logger;
  metrics: StageMetrics;
  ensureTopics?: { outputPartitions: number };
}

/** What one owned input partition needs: its computation and the producer that fences other owners. */
interface PartitionRun {
  processor: PartitionProcessor;
  producer: Producer;
  /** Input records below this offset are already in the checkpoint (and their output committed). */
  nextOffset: bigint;
}

const STAGE = 'aggregate';

/**
 * Consume -> compute -> produce, exactly once. Each input partition gets its own
 * transactional producer (id `<prefix>-<partition>`): opening it fences any previous
 * owner and aborts its open transaction, then the partition's checkpoint is read back
 * (read_committed) and the batch is processed. Outputs, dead letters, the checkpoint
 * records and the consumer offsets are committed in one transaction; any failure
 * aborts it, forgets the partition's in-memory state and rethrows, so the batch is
 * redelivered and recomputed from the last committed checkpoint.
 */
export class AggregatorEngine {
  private readonly runs = new Map<number, PartitionRun>();
  private readonly store: CompactedStore;
  private lastBatchAt?: number;
  private inputPartitions = 1;
  private closed = false;

  constructor(private readonly o: EngineOptions) {
    this.store = new CompactedStore(o.kafka, o.topics.state);
  }

  get lastBatchTime(): number | undefined {
    return this.lastBatchAt;
  }

  /**
   * Creates the output and state topics when missing; the state topic needs at least the
   * input's partitions. Retriable broker errors (a topic created a moment ago has no leader
   * yet, a broker restarting) are retried with backoff instead of failing the boot.
   */
  async prepare(): Promise<void> {
    await retryAtBoot('aggregator topics', () => this.prepareOnce(), { isRetryable: isRetryableKafkaError, logger: this.o.logger });
  }

  private async prepareOnce(): Promise<void> {
    const { kafka, topics } = this.o;
    const admin = kafka.admin();
    await admin.connect();
    let inputPartitions: number;
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topics.raw] });
      inputPartitions = meta.topics[0]?.partitions.length ?? 0;
      this.inputPartitions = inputPartitions;
    } finally {
      await admin.disconnect();
    }
    if (this.o.ensureTopics) {
      const n = this.o.ensureTopics.outputPartitions;
      await ensureTopics(kafka, [
        { name: topics.metrics, partitions: n },
        { name: topics.rollup1m, partitions: n },
        { name: topics.rollup1h, partitions: n },
        { name: topics.deadLetter, partitions: n },
        { name: topics.state, partitions: Math.max(1, inputPartitions), compacted: true },
      ]);
    }
    const admin2 = kafka.admin();
    await admin2.connect();
    try {
      const state = await admin2.fetchTopicMetadata({ topics: [topics.state] });
      const statePartitions = state.topics[0]?.partitions.length ?? 0;
      if (statePartitions < inputPartitions) {
        throw new Error(`state topic ${topics.state} has ${statePartitions} partitions, fewer than the ${inputPartitions} of ${topics.raw}: recreate it with at least as many`);
      }
    } finally {
      await admin2.disconnect();
    }
  }

  async handleBatch(batch: KafkaBatch): Promise<void> {
    if (this.closed) throw new Error('aggregator is shutting down');
    let run = this.runs.get(batch.partition);
    // A batch starting past what we processed means another instance owned the partition
    // in between (a rebalance there and back): our state is stale, reload it.
    const first = batch.messages[0] ? BigInt(batch.messages[0].offset) : undefined;
    if (run && first !== undefined && first > run.nextOffset) {
      this.o.logger.info({ partition: batch.partition, had: run.nextOffset.toString(), got: first.toString() }, 'partition moved away and back: reloading its state');
      await this.forget(batch.partition);
      run = undefined;
    }
    run ??= await this.open(batch.partition);
    try {
      await this.process(run, batch);
    } catch (err) {
      this.o.metrics.errors.inc({ stage: STAGE, type: err instanceof Error ? err.name : 'unknown' });
      this.o.logger.warn({ err, partition: batch.partition }, 'batch failed; its transaction is aborted and the partition is reloaded from its checkpoint');
      await this.forget(batch.partition);
      throw err;
    }
    this.lastBatchAt = Date.now();
  }

  private async open(partition: number): Promise<PartitionRun> {
    const { kafka, topics, logger, settings, metadata } = this.o;
    const producer = kafka.producer({
      transactionalId: `${this.o.transactionalIdPrefix}-${partition}`,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 60_000,
    });
    // Connecting initialises the transactional id: the previous owner is fenced and its open transaction aborted.
    await producer.connect();
    try {
      const records = await this.store.load((p) => p === partition);
      const state = decodeState(partition, records);
      const shard = this.inputPartitions > 1 ? { shard: String(partition) } : {};
      const processor = new PartitionProcessor({ ...settings, ...shard }, metadata);
      for (const owner of state.owners) processor.restoreOwner(owner);
      if (state.partition) processor.restorePartition(state.partition);
      if (state.invalid > 0) {
        this.o.metrics.discarded.inc({ stage: 'restore', reason: 'invalid-checkpoint' }, state.invalid);
        logger.warn({ partition, invalid: state.invalid }, 'skipped invalid checkpoint records');
      }
      const run: PartitionRun = { processor, producer, nextOffset: BigInt(state.nextOffset ?? '0') };
      this.runs.set(partition, run);
      logger.info({ topic: topics.raw, partition, owners: state.owners.length, nextOffset: run.nextOffset.toString() }, 'partition state restored');
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

  private async process(run: PartitionRun, batch: KafkaBatch): Promise<void> {
    const { topics, metrics } = this.o;
    const out: Record<Stream | 'dlq', Message[]> = { metrics: [], '1m': [], '1h': [], dlq: [] };
    let used = 0;
    for (const m of batch.messages) {
      if (BigInt(m.offset) < run.nextOffset) continue; // already in the checkpoint: a redelivery
      used++;
      const receivedAt = Number(m.timestamp);
      const deadLetter = (reason: string, error: string) => {
        metrics.discarded.inc({ stage: STAGE, reason });
        out.dlq.push({
          key: m.key,
          value: deadLetterCodec.encode({
            source: { topic: batch.topic, partition: batch.partition, offset: m.offset },
            key: toPayload(m.key),
            value: toPayload(m.value),
            reason: `aggregator:${reason}`,
            error,
            time: receivedAt, // input-derived, so output is identical on replay
            service: 'aggregator',
          }),
          headers: deadLetterCodec.headers(),
        });
      };
      const decoded = rawScrapeCodec.decode(m.value, m.headers as never);
      if (!decoded.ok) {
        deadLetter(`decode:${decoded.error.reason}`, decoded.error.message);
        continue;
      }
      const result = run.processor.ingest(decoded.value, receivedAt);
      for (const [reason, n] of Object.entries(result.counts)) {
        if (reason.startsWith('rate:')) continue; // skipped rates are normal, not drops
        if (reason !== result.deadLetter?.reason) metrics.discarded.inc({ stage: STAGE, reason }, n);
      }
      if (result.deadLetter) deadLetter(result.deadLetter.reason, result.deadLetter.error);
      for (const r of result.records) {
        out[r.stream].push({ key: r.key, value: metricPointBatchCodec.encode(r.batch), headers: metricPointBatchCodec.headers() });
        metrics.sent.inc({ stage: `${STAGE}:${r.stream}` }, r.batch.points.length);
      }
    }
    metrics.received.inc({ stage: STAGE }, used);

    const state: Message[] = [];
    for (const owner of run.processor.takeDirty()) {
      const s = run.processor.ownerState(owner);
      state.push({ key: ownerKey(batch.partition, owner), value: s ? encodeOwner(s) : null, partition: batch.partition });
    }
    state.push({ key: metaKey(batch.partition), value: encodePartition(run.processor.partitionState(), batch.nextOffset), partition: batch.partition });

    const topicMessages: TopicMessages[] = [
      { topic: topics.metrics, messages: out.metrics },
      { topic: topics.rollup1m, messages: out['1m'] },
      { topic: topics.rollup1h, messages: out['1h'] },
      { topic: topics.deadLetter, messages: out.dlq },
      { topic: topics.state, messages: state },
    ].filter((t) => t.messages.length > 0);

    await batch.heartbeat();
    const txn = await run.producer.transaction();
    try {
      await txn.sendBatch({ topicMessages, compression: compressionOf(this.o.kafkaConfig) });
      await txn.sendOffsets({ consumerGroupId: batch.consumerGroupId, topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: batch.nextOffset }] }] });
      await txn.commit();
    } catch (err) {
      await txn.abort().catch(() => undefined);
      throw err;
    }
    run.nextOffset = BigInt(batch.nextOffset);
  }

  /** Stops taking batches and releases the producers (the consumer was stopped first). */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of [...this.runs.keys()]) await this.forget(p);
  }
}
