import type { Kafka, KafkaMessage, Producer } from 'kafkajs';
import { deadLetterCodec, toPayload } from '@heapstream/contracts';
import { compressionOf, type KafkaConfig } from '@heapstream/kafka';

export interface DeadLetterInput {
  topic: string;
  partition: number;
  message: KafkaMessage;
  reason: string;
  error: string;
}

/**
 * Publishes DeadLetter records (contracts codec) keyed by the original key. `publish`
 * resolves only once the broker acknowledged, so the offset is committed after the
 * dead letter is durable, never before.
 */
export class DeadLetterPublisher {
  private producer?: Producer;

  constructor(
    private readonly kafka: Kafka,
    private readonly topic: string,
    private readonly service: string,
    private readonly config: Pick<KafkaConfig, 'KAFKA_COMPRESSION'>,
  ) {}

  async connect(): Promise<void> {
    if (this.producer) return;
    const producer = this.kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    this.producer = producer;
  }

  async publish(letters: readonly DeadLetterInput[]): Promise<void> {
    if (letters.length === 0) return;
    await this.connect();
    const now = Date.now();
    await this.producer!.send({
      topic: this.topic,
      acks: -1,
      compression: compressionOf(this.config),
      messages: letters.map((l) => ({
        key: l.message.key ?? null,
        headers: deadLetterCodec.headers(),
        value: deadLetterCodec.encode({
          source: { topic: l.topic, partition: l.partition, offset: l.message.offset },
          key: toPayload(l.message.key),
          value: toPayload(l.message.value),
          reason: l.reason,
          error: l.error.slice(0, 4_000),
          time: now,
          service: this.service,
        }),
      })),
    });
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    await p?.disconnect();
  }
}
