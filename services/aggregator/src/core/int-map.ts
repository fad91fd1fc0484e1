/*
 * Non-negative int32 key -> int32 value, open addressing with linear probing in two
 * typed arrays. A node has ~1,200 series slots to look up; as Maps they cost ~34 bytes
 * an entry on the garbage-collected heap (and marking time at every major GC), here
 * ~11 bytes an entry off it. Deletion shifts the following run back (no tombstones).
 */
const EMPTY = -1;
const MAX_LOAD = 0.75;

export class IntMap {
  private keys: Int32Array;
  private values: Int32Array;
  private shift: number;
  private count = 0;

  constructor(capacity = 16) {
    const bits = Math.max(4, Math.ceil(Math.log2(capacity)));
    this.keys = new Int32Array(1 << bits).fill(EMPTY);
    this.values = new Int32Array(1 << bits);
    this.shift = 32 - bits;
  }

  get size(): number {
    return this.count;
  }

  get(key: number): number | undefined {
    const i = this.find(key);
    return this.keys[i] === key ? this.values[i] : undefined;
  }

  set(key: number, value: number): void {
    if (key < 0 || key > 0x7fffffff || !Number.isInteger(key)) throw new RangeError(`IntMap key ${key} is not a non-negative int32`);
    if ((this.count + 1) > this.keys.length * MAX_LOAD) this.grow();
    const i = this.find(key);
    if (this.keys[i] === EMPTY) {
      this.keys[i] = key;
      this.count++;
    }
    this.values[i] = value;
  }

  delete(key: number): boolean {
    let i = this.find(key);
    if (this.keys[i] !== key) return false;
    const mask = this.keys.length - 1;
    // Move back every later entry of the run whose home is not between the hole and it.
    for (let j = (i + 1) & mask; this.keys[j] !== EMPTY; j = (j + 1) & mask) {
      const home = this.home(this.keys[j]!);
      const between = i <= j ? i < home && home <= j : i < home || home <= j;
      if (between) continue;
      this.keys[i] = this.keys[j]!;
      this.values[i] = this.values[j]!;
      i = j;
    }
    this.keys[i] = EMPTY;
    this.count--;
    return true;
  }

  /** Fibonacci hashing: the top bits of key x 2^32/phi. */
  private home(key: number): number {
    return Math.imul(key, 0x9e3779b1) >>> this.shift;
  }

  /** The bucket holding `key`, or the empty bucket ending its probe run. */
  private find(key: number): number {
    const mask = this.keys.length - 1;
    let i = this.home(key);
    while (this.keys[i] !== key && this.keys[i] !== EMPTY) i = (i + 1) & mask;
    return i;
  }

  private grow(): void {
    const { keys, values } = this;
    this.keys = new Int32Array(keys.length * 2).fill(EMPTY);
    this.values = new Int32Array(keys.length * 2);
    this.shift--;
    this.count = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== EMPTY) this.set(keys[i]!, values[i]!);
  }
}
