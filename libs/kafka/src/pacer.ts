import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { KafkaBatch } from './batch-transport.js';

/**
 * For synchronous work over the records of one batch: call the returned function before
 * each record. Once `sliceMs` of work has passed it lets the event loop run (sockets,
 * timers, /healthz) and heartbeats the group, so a large batch on a saturated machine
 * neither stalls the process for seconds nor costs the consumer its group membership
 * (a 4 MiB fetch of raw scrapes held the aggregator's loop for 18 s at 200 nodes).
 * Between slices it returns undefined: awaiting that costs a microtask, not a turn of
 * the loop. A heartbeat that finds the group rebalancing throws, and the batch is
 * retried by the member that owns the partition next.
 */
export function batchPacer(batch: Pick<KafkaBatch, 'heartbeat'>, sliceMs = 100): () => Promise<void> | undefined {
  let sliceStart = performance.now();
  return () => {
    if (performance.now() - sliceStart < sliceMs) return undefined;
    return (async () => {
      await yieldToLoop();
      await batch.heartbeat();
      sliceStart = performance.now();
    })();
  };
}
