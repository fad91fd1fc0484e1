/**
 * Deterministic randomness. Every simulated value derives from a 32-bit seed and a
 * few integer/string keys, so a payload can be recomputed from (seed, node, time)
 * without replaying anything.
 */

/** 32-bit avalanche mix (lowbias32); the building block of every hash here. */
export function mix32(x: number): number {
  x = (x ^ (x >>> 16)) >>> 0;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x = (x ^ (x >>> 15)) >>> 0;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

/** Hash of any number of 32-bit integers. */
export function hashInts(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) h = mix32((h ^ (p >>> 0)) + 0x6a09e667);
  return h;
}

/** FNV-1a of a string, mixed; stable key for names. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return mix32(h);
}

/** Uniform in [0, 1) from a hash. */
export function unit(h: number): number {
  return (h >>> 0) / 4294967296;
}

/** A seeded PRNG (mulberry32) for sequential draws: the event history. */
export class Prng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  range(min: number, max: number): number {
    return min + (max - min) * this.next();
  }
  pick<T>(items: readonly T[]): T {
    const item = items[this.int(items.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** Exponential inter-arrival time for a Poisson process of `ratePerUnit`. */
  exponential(ratePerUnit: number): number {
    return -Math.log(1 - this.next()) / ratePerUnit;
  }
  /** Poisson count (Knuth for small means, normal approximation above 30). */
  poisson(mean: number): number {
    if (mean <= 0) return 0;
    if (mean > 30) return Math.max(0, Math.round(mean + Math.sqrt(mean) * this.normal()));
    const limit = Math.exp(-mean);
    let k = 0;
    let p = this.next();
    while (p > limit) {
      k++;
      p *= this.next();
    }
    return k;
  }
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  /** Lowercase hex string of `length` chars. */
  hex(length: number): string {
    let s = '';
    while (s.length < length) s += Math.floor(this.next() * 0x100000000).toString(16).padStart(8, '0');
    return s.slice(0, length);
  }
  /** Kubernetes-style random suffix (consonants and digits, like utilrand.String). */
  suffix(length: number): string {
    const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
    let s = '';
    for (let i = 0; i < length; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }
  uuid(): string {
    const h = this.hex(32);
    const variant = ((parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}

/**
 * Smooth-ish bounded noise in [-1, 1]: linear interpolation between hashed knots
 * every `knotSeconds`. Its slope is bounded by 2 / knotSeconds, which is what keeps
 * the cumulative counters built on it monotonic.
 */
export function valueNoise(key: number, tSeconds: number, knotSeconds: number): number {
  const x = tSeconds / knotSeconds;
  const k = Math.floor(x);
  const f = x - k;
  const a = unit(hashInts(key, k, k / 4294967296)) * 2 - 1;
  const b = unit(hashInts(key, k + 1, (k + 1) / 4294967296)) * 2 - 1;
  return a + (b - a) * f;
}
