import type { Kafka, Message, Producer } from 'kafkajs';
import { z } from 'zod';
import { eventRecordCodec, metricPointBatchCodec } from '@heapstream/contracts';
import { batchPacer, CompactedStore, ensureTopics, partitionCount, type KafkaBatch, type KafkaConfig } from '@heapstream/kafka';
import type { Logger, StageMetrics } from '@heapstream/observability';
import { PartitionTransactions, type PartitionRun } from '../partition-transactions.js';
import { EventCounter, type EventCounterSettings, type EventCounterState } from './event-counter.js';

export interface EventCountTopics {
  events: string;
  rollup1m: string;
  rollup1h: string;
  deadLetter: string;
  /** Compacted: one checkpoint record per event-topic partition, on the same partition. */
  state: string;
}

export interface EventCountEngineOptions {
  kafka: Kafka;
  kafkaConfig: Pick<KafkaConfig, 'KAFKA_COMPRESSION'>;
  topics: EventCountTopics;
  transactionalIdPrefix: string;
  settings: Omit<EventCounterSettings, 'shard'>;
  logger: Logger;
  metrics: StageMetrics;
  /** Create the event topic (when the event-watcher has not yet) and the state topic. */
  ensureTopics?: { eventPartitions: number };
}

const STAGE = 'event-counts';
const STATE_VERSION = 1;

const accSchema = z.tuple([z.string(), z.enum(['1m', '1h']), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number(), z.number()]);
const checkpointSchema = z.object({
  v: z.literal(STATE_VERSION),
  /** Next event-topic offset this state includes. */
  nextOffset: z.string().regex(/^\d+$/),
  watermark: z.number().nullable(),
  windows: z.array(accSchema),
});

const checkpointKey = (partition: number) => `${partition}/event-counts`;

interface CountsRun extends PartitionRun {
  counter: EventCounter;
}

/**
 * The event-derived counters, exactly once (see PartitionTransactions): per event-topic
 * partition an `EventCounter` (transactional id `<prefix>-events-<partition>`), its whole
 * state checkpointed as one record on the state topic with the closed windows, dead
 * letters and consumer offsets. A quiet partition keeps its windows open until a later
 * occurrence moves its watermark.
 */
export class EventCountEngine extends PartitionTransactions<CountsRun> {
  private readonly store: CompactedStore;
  private partitions = 1;

  constructor(private readonly o: EventCountEngineOptions) {
    super({ kafka: o.kafka, kafkaConfig: o.kafkaConfig, logger: o.logger, metrics: o.metrics, stage: STAGE, what: 'event-count topics', transactionalId: (p) => `${o.transactionalIdPrefix}-events-${p}` });
    this.store = new CompactedStore(o.kafka, o.topics.state);
  }

  protected async prepareOnce(): Promise<void> {
    const { kafka, topics } = this.o;
    if (this.o.ensureTopics) await ensureTopics(kafka, [{ name: topics.events, partitions: this.o.ensureTopics.eventPartitions }]);
    this.partitions = Math.max(1, await partitionCount(kafka, topics.events));
    if (this.o.ensureTopics) await ensureTopics(kafka, [{ name: topics.state, partitions: this.partitions, compacted: true }]);
  }

  protected async restore(partition: number, producer: Producer): Promise<CountsRun> {
    const { settings, logger } = this.o;
    const records = await this.store.load((p) => p === partition);
    const counter = new EventCounter({ ...settings, ...(this.partitions > 1 ? { shard: String(partition) } : {}) });
    let nextOffset = 0n;
    const raw = records.get(checkpointKey(partition));
    if (raw) {
      const parsed = checkpointSchema.safeParse(JSON.parse(raw.toString()));
      if (parsed.success) {
        counter.restore({ watermark: parsed.data.watermark, windows: parsed.data.windows } as EventCounterState);
        nextOffset = BigInt(parsed.data.nextOffset);
      } else {
        this.o.metrics.discarded.inc({ stage: 'restore', reason: 'invalid-checkpoint' });
        logger.warn({ partition, err: parsed.error.message }, 'invalid event-count checkpoint: starting this partition afresh');
      }
    }
    logger.info({ topic: this.o.topics.events, partition, nextOffset: nextOffset.toString() }, 'event-count state restored');
    return { counter, producer, nextOffset };
  }

  protected async process(run: CountsRun, batch: KafkaBatch): Promise<void> {
    const { topics, metrics } = this.o;
    const out: { '1m': Message[]; '1h': Message[]; dlq: Message[] } = { '1m': [], '1h': [], dlq: [] };
    let used = 0;
    const pace = batchPacer(batch);
    for (const m of batch.messages) {
      await pace();
      if (BigInt(m.offset) < run.nextOffset) continue; // already in the checkpoint
      used++;
      const decoded = eventRecordCodec.decode(m.value, m.headers as never);
      if (!decoded.ok) {
        out.dlq.push(this.deadLetter(batch, m, `decode:${decoded.error.reason}`, decoded.error.message));
        continue;
      }
      const { late } = run.counter.ingest(decoded.value);
      if (late > 0) metrics.discarded.inc({ stage: STAGE, reason: 'late' }, late);
      // Closed after every record, so the output does not depend on where batches split.
      for (const r of run.counter.close()) {
        if (r.stream === 'metrics') continue;
        out[r.stream].push({ key: r.key, value: metricPointBatchCodec.encode(r.batch), headers: metricPointBatchCodec.headers() });
        metrics.sent.inc({ stage: `${STAGE}:${r.stream}` }, r.batch.points.length);
      }
    }
    metrics.received.inc({ stage: STAGE }, used);
    const checkpoint: Message = {
      key: checkpointKey(batch.partition),
      value: Buffer.from(JSON.stringify({ v: STATE_VERSION, nextOffset: batch.nextOffset, ...run.counter.snapshot() })),
      partition: batch.partition,
    };
    await this.commit(run, batch, [
      { topic: topics.rollup1m, messages: out['1m'] },
      { topic: topics.rollup1h, messages: out['1h'] },
      { topic: topics.deadLetter, messages: out.dlq },
      { topic: topics.state, messages: [checkpoint] },
    ]);
  }
}
