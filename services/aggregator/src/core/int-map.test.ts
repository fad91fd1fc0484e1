import { describe, expect, it } from 'vitest';
import { IntMap } from './int-map.js';

describe('IntMap', () => {
  it('agrees with a Map under random sets and deletes, through growth and collisions', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    const map = new IntMap(4);
    const reference = new Map<number, number>();
    for (let step = 0; step < 50_000; step++) {
      // Keys shaped like series numbers (entity * 4096 + metric), from a small range so deletes hit.
      const key = random(64) * 4096 + random(40);
      if (random(3) === 0) expect(map.delete(key)).toBe(reference.delete(key));
      else {
        map.set(key, step);
        reference.set(key, step);
      }
      if (step % 997 === 0) for (const [k, v] of reference) expect(map.get(k)).toBe(v);
      expect(map.size).toBe(reference.size);
    }
    for (let key = 0; key < 64 * 4096; key += 7) expect(map.get(key)).toBe(reference.get(key));
  });

  it('refuses keys it cannot store', () => {
    expect(() => new IntMap().set(-1, 0)).toThrow(RangeError);
    expect(() => new IntMap().set(2 ** 31, 0)).toThrow(RangeError);
  });
});
