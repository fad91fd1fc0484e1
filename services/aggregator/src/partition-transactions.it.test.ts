import { afterAll, describe, expect, it } from 'vitest';
import type { Kafka, Producer } from 'kafkajs';
import type { KafkaBatch } from '@heapstream/kafka';
import { StageMetrics } from '@heapstream/observability';
import { createTopics, readCommitted, silentLogger, testKafka, uniqueName, waitFor } from '@heapstream/testing';
import { PartitionTransactions, type PartitionRun } from './partition-transactions.js';

/*
 * The hand-over of a partition between two owners, against the real broker: the new
 * owner must fence the old one before it reads the committed offset, or an old owner
 * still finishing a batch commits it after the new owner has read past it, and the
 * batch's output is committed twice.
 */

/** Copies each input record to `out`; restores nothing but the group's committed offset. */
class CopyOnce extends PartitionTransactions<PartitionRun> {
  /** Resolved when a batch reaches the point of committing. */
  reachedCommit!: Promise<void>;
  private onCommit!: () => void;

  constructor(
    private readonly kafka: Kafka,
    private readonly names: { in: string; out: string; group: string; transactionalId: string },
    /** Held before committing until this settles: an owner that is slow to finish its batch. */
    private readonly hold: Promise<void> = Promise.resolve(),
  ) {
    super({ kafka, kafkaConfig: { KAFKA_COMPRESSION: 'none' }, logger: silentLogger, metrics: new StageMetrics('test'), stage: 'copy', what: 'test topics', transactionalId: () => names.transactionalId });
    this.reachedCommit = new Promise((resolve) => (this.onCommit = resolve));
  }

  protected async prepareOnce(): Promise<void> {}

  protected async restore(partition: number, producer: Producer): Promise<PartitionRun> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({ groupId: this.names.group, topics: [this.names.in] });
      const committed = BigInt(offsets?.partitions.find((p) => p.partition === partition)?.offset ?? '-1');
      return { producer, nextOffset: committed < 0n ? 0n : committed };
    } finally {
      await admin.disconnect();
    }
  }

  protected async process(run: PartitionRun, batch: KafkaBatch): Promise<void> {
    const fresh = batch.messages.filter((m) => BigInt(m.offset) >= run.nextOffset);
    this.onCommit();
    await this.hold;
    await this.commit(run, batch, [{ topic: this.names.out, messages: fresh.map((m) => ({ key: m.key, value: m.value })) }]);
  }
}

describe('PartitionTransactions against Kafka', () => {
  const kafka = testKafka('partition-transactions-it');
  const owners: CopyOnce[] = [];
  afterAll(async () => {
    for (const o of owners) await o.close();
  });

  it('a new owner fences the old one before restoring: a batch finished late by the old owner is not committed twice', async () => {
    const name = uniqueName('ptx');
    const names = { in: `${name}.in`, out: `${name}.out`, group: `${name}-group`, transactionalId: `${name}-txn` };
    await createTopics(kafka, [{ topic: names.in }, { topic: names.out }]);
    // A broker that just started may still be loading its group coordinator: the owners' restores need it.
    await waitFor('group coordinator', async () => {
      const admin = kafka.admin();
      await admin.connect();
      try {
        await admin.fetchOffsets({ groupId: names.group, topics: [names.in] });
        return true;
      } catch {
        return false;
      } finally {
        await admin.disconnect();
      }
    }, { timeoutMs: 60_000, intervalMs: 500 });
    const batch: KafkaBatch = {
      topic: names.in,
      partition: 0,
      messages: [{ offset: '0', key: Buffer.from('k'), value: Buffer.from('v'), timestamp: String(Date.now()), attributes: 0, headers: {} }],
      nextOffset: '1',
      firstOffset: '0',
      continuesPrevious: false,
      consumerGroupId: names.group,
      heartbeat: async () => undefined,
      isRunning: () => true,
    };

    let release!: () => void;
    const old = new CopyOnce(kafka, names, new Promise<void>((resolve) => (release = resolve)));
    const next = new CopyOnce(kafka, names);
    owners.push(old, next);

    // The old owner has restored and computed the batch, and is slow to commit it...
    const oldResult = old.handleBatch(batch).then(() => 'committed', (err: unknown) => `failed: ${String(err)}`);
    await Promise.race([old.reachedCommit, oldResult.then((r) => Promise.reject(new Error(`the old owner did not reach its commit: ${r}`)))]);
    // ...while the partition moves: the new owner restores (nothing committed yet) and commits the batch.
    await next.handleBatch(batch);
    release();

    // The old owner was fenced when the new one opened the partition: its commit fails.
    expect(await oldResult).toMatch(/^failed: /);
    const out = await readCommitted(kafka, names.out);
    expect(out.map((m) => m.value.toString())).toEqual(['v']);
  }, 90_000);
});
