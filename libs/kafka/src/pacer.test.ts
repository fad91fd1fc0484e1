import { describe, expect, it } from 'vitest';
import { batchPacer } from './pacer.js';

const busy = (ms: number) => {
  const until = performance.now() + ms;
  while (performance.now() < until);
};

describe('batchPacer', () => {
  it('lets the event loop run and heartbeats once per slice of synchronous work, not per record', async () => {
    let heartbeats = 0;
    let timerRan = 0;
    const timer = setInterval(() => timerRan++, 1);
    const pace = batchPacer({ heartbeat: async () => void heartbeats++ }, 20);
    let yielded = 0;
    for (let record = 0; record < 100; record++) {
      const p = pace();
      if (p) {
        yielded++;
        await p;
      }
      busy(1);
    }
    clearInterval(timer);
    // ~100 ms of work in 20 ms slices: about 5 turns of the loop, each with a heartbeat
    expect(yielded).toBeGreaterThanOrEqual(3);
    expect(yielded).toBeLessThanOrEqual(6);
    expect(heartbeats).toBe(yielded);
    // each yield gives the loop a turn: timers (and sockets) run between slices
    expect(timerRan).toBeGreaterThanOrEqual(yielded - 1);
  });

  it('passes on a heartbeat failure (the group is rebalancing): the batch fails and is redelivered', async () => {
    const pace = batchPacer({ heartbeat: () => Promise.reject(new Error('The group is rebalancing')) }, 0);
    busy(1);
    await expect(pace()).rejects.toThrow('rebalancing');
  });
});
