import type { Producer } from 'kafkajs';

/**
 * Connects a transactional producer and takes over its transactional id before the
 * caller reads any state: the id's epoch is bumped, so an older producer with it (a
 * deposed owner, a process that lost its partition) can commit nothing more, and the
 * transaction it left is finished first (an open one aborted, a committing one
 * completed, its consumer offsets included).
 *
 * kafkajs's `connect()` alone does not do this: it gets an idempotent producer id. The
 * first `transaction()` runs InitProducerId with the transactional id, and an empty
 * transaction ends without a request to the broker.
 */
export async function connectFenced(producer: Producer): Promise<void> {
  await producer.connect();
  const txn = await producer.transaction();
  await txn.abort();
}
