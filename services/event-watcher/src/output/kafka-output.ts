import type { CompressionTypes, Kafka, Producer, TopicMessages } from 'kafkajs';
import {
  decodeEventEmitted,
  decodeEventWatchPosition,
  parseCheckpointKey,
  type EncodedMessage,
} from '@heapstream/contracts';
import { CompactedStore, connectFenced } from '@heapstream/kafka';
import { EmittedLedger } from '../core/ledger.js';
import type { CheckpointState, EventOutput, OutputBatch } from './event-output.js';

export interface KafkaEventOutputOptions {
  kafka: Kafka;
  eventsTopic: string;
  checkpointTopic: string;
  /** Only when Heapster compatibility is on. */
  heapsterTopic?: string;
  /**
   * Shared by every replica of one watcher deployment: a new leader's producer fences
   * the old leader's, so a deposed leader can never commit after the hand-over.
   */
  transactionalId: string;
  compression?: CompressionTypes;
}

const toKafka = (m: EncodedMessage) => ({ key: m.key, value: m.value, headers: m.headers });

/**
 * Records, Heapster messages and checkpoint entries go out in one Kafka transaction:
 * after a crash the checkpoint says exactly what was written, so nothing is emitted
 * twice or skipped. Readers must use read_committed (the kafkajs default).
 */
export class KafkaEventOutput implements EventOutput {
  private producer: Producer | undefined;

  constructor(private readonly opts: KafkaEventOutputOptions) {}

  async open(): Promise<void> {
    await this.close();
    const producer = this.opts.kafka.producer({
      transactionalId: this.opts.transactionalId,
      idempotent: true,
      maxInFlightRequests: 1,
      transactionTimeout: 30_000,
      // The coordinator answers CONCURRENT_TRANSACTIONS while it finishes the previous
      // commit; the client's default 300 ms first retry would add that to every flush.
      retry: { initialRetryTime: 20, maxRetryTime: 5_000, retries: 10 },
    });
    // Older producers with this id are fenced and what they left open is finished.
    await connectFenced(producer);
    this.producer = producer;
  }

  async restore(): Promise<CheckpointState> {
    const raw = await new CompactedStore(this.opts.kafka, this.opts.checkpointTopic).load();
    const state: CheckpointState = { positions: new Map(), ledger: new EmittedLedger(), unreadable: 0 };
    for (const [key, value] of raw) {
      const parsed = parseCheckpointKey(key);
      if (parsed?.kind === 'position') {
        const d = decodeEventWatchPosition(value);
        if (d.ok) state.positions.set(parsed.subject, d.value.resourceVersion);
        else state.unreadable++;
      } else if (parsed?.kind === 'emitted') {
        const d = decodeEventEmitted(value);
        if (d.ok) {
          const { occurrence, namespace, name, deletedAt } = d.value;
          state.ledger.set(parsed.subject, { occurrence, ...(namespace !== undefined ? { namespace } : {}), ...(name !== undefined ? { name } : {}), ...(deletedAt !== undefined ? { deletedAt } : {}) });
        }
        else state.unreadable++;
      } else state.unreadable++;
    }
    return state;
  }

  async commit(batch: OutputBatch): Promise<void> {
    const producer = this.producer;
    if (!producer) throw new Error('event output is not open');
    const topicMessages: TopicMessages[] = [];
    if (batch.records.length > 0) topicMessages.push({ topic: this.opts.eventsTopic, messages: batch.records.map(toKafka) });
    if (batch.heapster.length > 0 && this.opts.heapsterTopic) topicMessages.push({ topic: this.opts.heapsterTopic, messages: batch.heapster.map(toKafka) });
    if (batch.checkpoints.length > 0) topicMessages.push({ topic: this.opts.checkpointTopic, messages: batch.checkpoints.map((c) => ({ key: c.key, value: c.value })) });
    if (topicMessages.length === 0) return;
    const txn = await producer.transaction();
    try {
      await txn.sendBatch({ topicMessages, ...(this.opts.compression !== undefined ? { compression: this.opts.compression } : {}) });
      await txn.commit();
    } catch (err) {
      await txn.abort().catch(() => undefined);
      throw err;
    }
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    await p?.disconnect().catch(() => undefined);
  }
}
