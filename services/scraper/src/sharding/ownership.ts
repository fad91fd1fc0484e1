import type { Consumer, Kafka } from 'kafkajs';
import type { Logger } from '@heapstream/observability';
import { ownerOf, shardOf } from './rendezvous.js';

/** Decides which nodes this replica scrapes, so that each node has exactly one scraper. */
export interface NodeOwnership {
  start(): Promise<void>;
  owns(node: string): boolean;
  /** False while this replica does not yet know its share (e.g. joining the group). */
  ready(): boolean;
  describe(): string;
  stop(): Promise<void>;
}

/** Fixed index/count (e.g. StatefulSet ordinal and replicas); rendezvous hashing keeps moves minimal. */
export class StaticOwnership implements NodeOwnership {
  private readonly members: string[];
  constructor(private readonly index: number, count: number) {
    this.members = Array.from({ length: count }, (_, i) => String(i));
  }
  async start(): Promise<void> {}
  owns(node: string): boolean {
    return ownerOf(node, this.members) === String(this.index);
  }
  ready(): boolean {
    return true;
  }
  describe(): string {
    return `static shard ${this.index} of ${this.members.length}`;
  }
  async stop(): Promise<void> {}
}

/**
 * Replicas join one Kafka consumer group on a topic with `shards` partitions; the
 * group coordinator gives each partition (virtual shard) to exactly one live replica,
 * and a node belongs to shard hash(node) mod shards. A replica that stops loses its
 * shards to the others within the session timeout; nothing is configured per replica.
 */
export class GroupOwnership implements NodeOwnership {
  private consumer?: Consumer;
  private assigned = new Set<number>();
  private joined = false;

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: { topic: string; groupId: string; shards: number; logger: Logger; sessionTimeoutMs?: number },
  ) {}

  async start(): Promise<void> {
    const consumer = this.kafka.consumer({
      groupId: this.opts.groupId,
      sessionTimeout: this.opts.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: 1_000,
      rebalanceTimeout: 20_000,
      retry: { retries: 10, restartOnFailure: async () => true },
    });
    this.consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.assigned = new Set(payload.memberAssignment[this.opts.topic] ?? []);
      this.joined = true;
      this.opts.logger.info({ shards: [...this.assigned].sort((a, b) => a - b).join(','), count: this.assigned.size }, 'scraper shards assigned');
    });
    const forget = () => {
      this.joined = false;
      this.assigned = new Set();
    };
    consumer.on(consumer.events.CRASH, forget);
    consumer.on(consumer.events.STOP, forget);
    await consumer.connect();
    await consumer.subscribe({ topic: this.opts.topic, fromBeginning: false });
    // Nothing is ever produced to the shards topic: the group exists for its assignment.
    await consumer.run({ eachMessage: async () => undefined });
  }

  owns(node: string): boolean {
    return this.assigned.has(shardOf(node, this.opts.shards));
  }

  ready(): boolean {
    return this.joined;
  }

  describe(): string {
    return `${this.assigned.size} of ${this.opts.shards} shards (group ${this.opts.groupId})`;
  }

  async stop(): Promise<void> {
    const c = this.consumer;
    this.consumer = undefined;
    this.joined = false;
    this.assigned = new Set();
    await c?.disconnect();
  }
}
