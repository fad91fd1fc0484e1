import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { metricPointBatchV1Codec } from './codecs.js';
import { isExactMetricPointBatch } from './metric-points-check.js';
import { metricPointBatchSchema } from './metric-points.js';

const T = 1_700_000_000_000;
const valid = () => ({
  schemaVersion: '1.0',
  cluster: 'c1',
  resolution: '1m',
  producedAt: T,
  producer: 'aggregator',
  points: [
    { metric: 'cpu/usage', entityType: 'pod_container', tags: { cluster_name: 'c1', pod_name: 'p' }, timestamp: T, value: 2 ** 60, startTime: T - 1000 },
    { metric: 'memory/usage', entityType: 'ns', tags: {}, timestamp: T, value: 0.5, members: 3, window: { start: T, end: T + 60_000, min: -1, max: 2, sum: 1.5, count: 3, last: 0 } },
    { metric: 'uptime', entityType: 'node', tags: { nodename: 'n' }, timestamp: 0, value: 0 },
  ],
});

/** The check's contract: it says yes exactly when zod accepts the value without changing it. */
function agrees(json: unknown): boolean {
  const parsed = metricPointBatchSchema.safeParse(json);
  const zodExact = parsed.success && isDeepStrictEqual(parsed.data, json);
  return isExactMetricPointBatch(json) === zodExact;
}

/** Deterministic PRNG (mulberry32), so a failure reproduces. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const oddValues: unknown[] = [null, undefined, '', 'x', '2.0', '1.x', 0, -1, 1.5, 2 ** 53, -(2 ** 60), true, [], {}, ['a'], { a: 1 }, 'pod', 'cluster', '1h', 'native', 'minute'];

/** Every path to a value in `json` (objects and arrays), including the root's children. */
function paths(json: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (typeof json !== 'object' || json === null) return [at];
  const keys = Array.isArray(json) ? json.map((_, i) => i) : Object.keys(json);
  return [at, ...keys.flatMap((k) => paths((json as Record<string | number, unknown>)[k], [...at, k]))];
}

function mutate(json: Record<string, unknown>, path: (string | number)[], how: 'set' | 'delete' | 'add', value: unknown): void {
  let target: Record<string | number, unknown> = json;
  for (const k of path.slice(0, -1)) target = target[k] as Record<string | number, unknown>;
  const last = path.at(-1);
  if (how === 'add' || last === undefined) {
    const obj = last === undefined ? target : (target[last] as Record<string, unknown>);
    if (typeof obj === 'object' && obj !== null && !Array.isArray(obj)) obj.extra = value;
  } else if (how === 'delete') delete target[last];
  else target[last] = value;
}

describe('isExactMetricPointBatch', () => {
  it('accepts valid batches, which decode to the same value as through zod', () => {
    const batch: unknown = valid();
    expect(isExactMetricPointBatch(batch)).toBe(true);
    const bytes = Buffer.from(JSON.stringify(batch));
    const decoded = metricPointBatchV1Codec.decode(bytes);
    expect(decoded.ok && decoded.value).toEqual(metricPointBatchSchema.parse(JSON.parse(bytes.toString())));
  });

  it('agrees with zod on 5,000 random single and double mutations of a valid batch', () => {
    const random = rng(42);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    let rejected = 0;
    for (let i = 0; i < 5_000; i++) {
      const json = valid() as Record<string, unknown>;
      for (let m = 0; m < (i % 2) + 1; m++) mutate(json, pick(paths(json)), pick(['set', 'set', 'delete', 'add'] as const), pick(oddValues));
      if (!agrees(json)) throw new Error(`disagrees with zod on ${JSON.stringify(json)}`);
      if (!isExactMetricPointBatch(json)) rejected++;
    }
    // Most mutations break the shape; some (a tag value to '', a value to 0) do not.
    expect(rejected).toBeGreaterThan(3_000);
    expect(rejected).toBeLessThan(5_000);
  });

  it('sends values with unknown keys (a newer minor version) through zod, which strips them', () => {
    const json = { ...valid(), schemaVersion: '1.7', added: true };
    expect(isExactMetricPointBatch(json)).toBe(false);
    const decoded = metricPointBatchV1Codec.decode(Buffer.from(JSON.stringify(json)));
    expect(decoded.ok && 'added' in decoded.value).toBe(false);
  });
});
