import type { Kafka, Message, Producer, TopicMessages } from 'kafkajs';
import { metricPointBatchCodec, rawScrapeCodec } from '@heapstream/contracts';
import { batchPacer, CompactedStore, DEFAULT_MAX_SEND_BYTES, ensureTopics, LagMonitor, partitionCount, readPartitionRange, timestampType, type KafkaBatch, type KafkaConfig } from '@heapstream/kafka';
import type { Logger, StageMetrics } from '@heapstream/observability';
import type { MetadataSource } from './core/enrich.js';
import { PartitionProcessor, type ProcessorSettings, type Stream } from './core/processor.js';
import { decodeState, encodeOwner, encodePartition, metaKey, ownerKey } from './core/state.js';
import type { Topics } from './config.js';
import { PartitionTransactions, type PartitionRun } from './partition-transactions.js';

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
  /**
   * Least time between two state snapshots of a partition. Between snapshots only the
   * consumer offset advances; a restore replays the input from the snapshot's offset to
   * the committed one (outputs discarded, they are already committed). 0: every batch.
   */
  snapshotIntervalMs: number;
  /** /healthz fails after this long with raw records waiting and no batch committed (HEAPSTREAM_LIVENESS_STALL). */
  livenessStallMs?: number;
}

/** What one owned input partition needs: its computation, plus the producer and checkpoint offset. */
interface MetricsRun extends PartitionRun {
  processor: PartitionProcessor;
  /** When this partition's state was last written whole (0: not since it was opened). */
  snapshotAt: number;
}

const STAGE = 'aggregate';

/**
 * The metric computation, exactly once (see PartitionTransactions): per raw-topic
 * partition a `PartitionProcessor`, checkpointed to the state topic (owner records that
 * changed plus the partition's meta record) in the same transaction as its outputs.
 */
export class AggregatorEngine extends PartitionTransactions<MetricsRun> {
  private readonly store: CompactedStore;
  private inputPartitions = 1;
  /** The group's lag on the raw topic, from the broker: whether there is work (liveness). */
  readonly lag: LagMonitor;

  constructor(private readonly o: EngineOptions) {
    super({ kafka: o.kafka, kafkaConfig: o.kafkaConfig, logger: o.logger, metrics: o.metrics, stage: STAGE, what: 'aggregator topics', transactionalId: (p) => `${o.transactionalIdPrefix}-${p}` });
    this.store = new CompactedStore(o.kafka, o.topics.state);
    this.lag = new LagMonitor(o.kafka, o.groupId, [o.topics.raw], o.metrics, { intervalMs: 30_000, growthSamples: 6, logger: o.logger });
  }

  get livenessStallMs(): number {
    return this.o.livenessStallMs ?? 600_000;
  }

  override async close(): Promise<void> {
    this.lag.stop();
    await super.close();
  }

  /** Creates the output and state topics when missing; the state topic needs at least the input's partitions. */
  protected async prepareOnce(): Promise<void> {
    const { kafka, topics } = this.o;
    const inputPartitions = await partitionCount(kafka, topics.raw);
    this.inputPartitions = inputPartitions;
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
    // A scrape claiming to finish after the broker received it is refused (clock skew):
    // that needs the broker's time on the raw records, which the scraper asks for when it
    // creates the topic. A topic created otherwise keeps the producers' clocks.
    const stamped = await timestampType(kafka, topics.raw).catch(() => undefined);
    if (stamped !== 'LogAppendTime') {
      this.o.logger.warn(
        { topic: topics.raw, timestampType: stamped ?? 'unknown' },
        "the raw topic keeps the producers' timestamps, so the clock-skew guard trusts the scrapers' clocks: set message.timestamp.type=LogAppendTime on it",
      );
    }
    const statePartitions = await partitionCount(kafka, topics.state);
    this.lag.start();
    if (statePartitions < inputPartitions) {
      throw new Error(`state topic ${topics.state} has ${statePartitions} partitions, fewer than the ${inputPartitions} of ${topics.raw}: recreate it with at least as many`);
    }
  }

  protected async restore(partition: number, producer: Producer): Promise<MetricsRun> {
    const { topics, logger, settings, metadata } = this.o;
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
    const snapshotOffset = BigInt(state.nextOffset ?? '0');
    // Input after the snapshot was processed and its output committed: replay it into the
    // state with the output discarded. The output is a function of the input, so the
    // state afterwards is what the previous owner had.
    const committed = await this.committedOffset(partition);
    const started = Date.now();
    const replayed = await this.replay(processor, partition, snapshotOffset, committed);
    const run: MetricsRun = { processor, producer, nextOffset: committed > snapshotOffset ? committed : snapshotOffset, snapshotAt: 0 };
    logger.info(
      { topic: topics.raw, partition, owners: state.owners.length, snapshotOffset: snapshotOffset.toString(), replayed, replayMs: Date.now() - started, nextOffset: run.nextOffset.toString() },
      'partition state restored',
    );
    return run;
  }

  /** Input already processed (its output committed) into `processor` again, output discarded. */
  private replay(processor: PartitionProcessor, partition: number, from: bigint, to: bigint): Promise<number> {
    return readPartitionRange(
      this.o.kafka,
      this.o.topics.raw,
      partition,
      from,
      to,
      (m) => {
        const decoded = rawScrapeCodec.decode(m.value, m.headers as never);
        if (decoded.ok) processor.ingest(decoded.value, Number(m.timestamp));
      },
      // Retention deleted input that the state had not absorbed yet: the state misses it
      // (rates restart, windows and rollups of that time lack it). Said loudly, not skipped.
      (lost) => {
        const records = Number(lost.to - lost.from);
        this.o.metrics.discarded.inc({ stage: 'restore', reason: 'replay-range-deleted' }, records);
        this.o.logger.error(
          { topic: this.o.topics.raw, partition, from: lost.from.toString(), to: lost.to.toString(), records },
          'raw records between the state snapshot and the committed offset were deleted by retention before the state absorbed them; the restored state lacks them',
        );
      },
    );
  }

  /** The group's committed offset of the raw partition (0 when none). */
  private async committedOffset(partition: number): Promise<bigint> {
    const admin = this.o.kafka.admin();
    await admin.connect();
    try {
      const [t] = await admin.fetchOffsets({ groupId: this.o.groupId, topics: [this.o.topics.raw] });
      const offset = t?.partitions.find((p) => p.partition === partition)?.offset ?? '-1';
      return BigInt(offset) < 0n ? 0n : BigInt(offset);
    } finally {
      await admin.disconnect();
    }
  }

  protected async process(run: MetricsRun, batch: KafkaBatch): Promise<void> {
    const { topics, metrics } = this.o;
    // The group's committed offset can be ahead of what the restore read (an offset commit
    // of the previous owner's last transaction becoming visible a moment later): replay
    // the gap into the state first, so no input is skipped.
    const first = BigInt(batch.firstOffset);
    if (first > run.nextOffset) {
      const replayed = await this.replay(run.processor, batch.partition, run.nextOffset, first);
      this.o.logger.info({ partition: batch.partition, from: run.nextOffset.toString(), to: first.toString(), replayed }, 'batch starts past the restored state: replayed the gap');
      run.nextOffset = first;
    }
    const out: Record<Stream | 'dlq', Message[]> = { metrics: [], '1m': [], '1h': [], dlq: [] };
    let used = 0;
    const pace = batchPacer(batch);
    for (const m of batch.messages) {
      await pace();
      if (BigInt(m.offset) < run.nextOffset) continue; // already in the checkpoint: a redelivery
      used++;
      const decoded = rawScrapeCodec.decode(m.value, m.headers as never);
      if (!decoded.ok) {
        out.dlq.push(this.deadLetter(batch, m, `decode:${decoded.error.reason}`, decoded.error.message));
        continue;
      }
      const result = run.processor.ingest(decoded.value, Number(m.timestamp));
      for (const [reason, n] of Object.entries(result.counts)) {
        if (reason.startsWith('rate:')) continue; // skipped rates are normal, not drops
        if (reason !== result.deadLetter?.reason) metrics.discarded.inc({ stage: STAGE, reason }, n);
      }
      if (result.deadLetter) out.dlq.push(this.deadLetter(batch, m, result.deadLetter.reason, result.deadLetter.error));
      for (const r of result.records) {
        out[r.stream].push({ key: r.key, value: metricPointBatchCodec.encode(r.batch), headers: metricPointBatchCodec.headers() });
        metrics.sent.inc({ stage: `${STAGE}:${r.stream}` }, r.batch.points.length);
      }
    }
    metrics.received.inc({ stage: STAGE }, used);

    let snapshot: Iterable<TopicMessages> | undefined;
    if (Date.now() - run.snapshotAt >= this.o.snapshotIntervalMs) {
      snapshot = this.snapshot(run.processor, batch);
      run.snapshotAt = Date.now();
    }
    await this.commit(
      run,
      batch,
      [
        { topic: topics.metrics, messages: out.metrics },
        { topic: topics.rollup1m, messages: out['1m'] },
        { topic: topics.rollup1h, messages: out['1h'] },
        { topic: topics.deadLetter, messages: out.dlq },
      ],
      snapshot,
    );
  }

  /**
   * A snapshot: every owner changed since the last one, then the meta record saying which
   * input offset it holds. Encoded lazily, in chunks of about a send's size, while the
   * transaction sends it: a node's state is ~140 KiB, so thousands of nodes must not be
   * encoded at once.
   */
  private *snapshot(processor: PartitionProcessor, batch: KafkaBatch): Iterable<TopicMessages> {
    const { partition } = batch;
    let messages: Message[] = [];
    let bytes = 0;
    for (const owner of processor.takeDirty()) {
      const s = processor.ownerState(owner);
      const value = s ? encodeOwner(s) : null;
      messages.push({ key: ownerKey(partition, owner), value, partition });
      bytes += value?.length ?? 0;
      if (bytes >= DEFAULT_MAX_SEND_BYTES) {
        yield { topic: this.o.topics.state, messages };
        messages = [];
        bytes = 0;
      }
    }
    messages.push({ key: metaKey(partition), value: encodePartition(processor.partitionState(), batch.nextOffset), partition });
    yield { topic: this.o.topics.state, messages };
  }
}
