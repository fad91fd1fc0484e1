import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { metricPointBatchCodec } from './codecs.js';
import type { MetricPoint, MetricPointBatch } from './metric-points.js';
import { expandExact, expandParsed, groupByEntity, metricPointsV2Schema } from './metric-points-v2.js';

const T = 1_700_000_000_000;
const podTags = { cluster_name: 'c1', nodename: 'n1', namespace_name: 'default', pod_name: 'p' };

const batch = (): Omit<MetricPointBatch, 'schemaVersion'> => ({
  cluster: 'c1',
  resolution: 'native',
  producedAt: T,
  producer: 'aggregator',
  cycle: T - 5_000,
  points: [
    { metric: 'cpu/usage', entityType: 'pod', tags: podTags, timestamp: T, value: 2 ** 60, startTime: T - 1000 },
    { metric: 'uptime', entityType: 'node', tags: { cluster_name: 'c1', nodename: 'n1' }, timestamp: T, value: 0 },
    { metric: 'memory/working_set', entityType: 'pod', tags: podTags, timestamp: T + 1, value: 0.5 },
    // equal tags in another object: the same entity
    { metric: 'cpu/request', entityType: 'pod', tags: { ...podTags }, timestamp: T, value: 500, members: 2 },
    // same tags object, another entity type
    { metric: 'cpu/usage_rate', entityType: 'ns', tags: podTags, timestamp: T, value: 3, window: { start: T, end: T + 60_000, min: -1, max: 2, sum: 1.5, count: 3, last: 0 } },
  ],
});

const wire = () => JSON.parse(metricPointBatchCodec.encode(batch()).toString()) as Record<string, unknown>;

describe('metric points v2 (grouped by entity)', () => {
  it('writes each entity once with its points as tuples, in first-seen order', () => {
    const json = wire();
    expect(json.schemaVersion).toBe('2.1');
    expect(json.cycle).toBe(T - 5_000);
    expect(json.entities).toEqual([
      { entityType: 'pod', tags: podTags, points: [['cpu/usage', T, 2 ** 60, { startTime: T - 1000 }], ['memory/working_set', T + 1, 0.5], ['cpu/request', T, 500, { members: 2 }]] },
      { entityType: 'node', tags: { cluster_name: 'c1', nodename: 'n1' }, points: [['uptime', T, 0]] },
      { entityType: 'ns', tags: podTags, points: [['cpu/usage_rate', T, 3, { window: { start: T, end: T + 60_000, min: -1, max: 2, sum: 1.5, count: 3, last: 0 } }]] },
    ]);
    expect(metricPointsV2Schema.safeParse(json).success).toBe(true);
  });

  it('decodes to the same points, grouped by entity, sharing one tags object per entity', () => {
    const decoded = metricPointBatchCodec.decode(metricPointBatchCodec.encode(batch()), metricPointBatchCodec.headers());
    if (!decoded.ok) throw decoded.error;
    const byEntity = (ps: readonly MetricPoint[]) => [...ps].sort((a, b) => `${a.entityType}${a.metric}`.localeCompare(`${b.entityType}${b.metric}`));
    expect(byEntity(decoded.value.points)).toEqual(byEntity(batch().points));
    const pod = decoded.value.points.filter((p) => p.entityType === 'pod');
    expect(new Set(pod.map((p) => p.tags)).size).toBe(1);
    expect(decoded.value).toMatchObject({ schemaVersion: '2.1', cluster: 'c1', resolution: 'native', producedAt: T, producer: 'aggregator', cycle: T - 5_000 });
  });

  it('is deterministic: the same points give the same bytes', () => {
    expect(metricPointBatchCodec.encode(batch()).equals(metricPointBatchCodec.encode(batch()))).toBe(true);
    expect(groupByEntity([])).toEqual([]);
  });

  it('refuses version 1 records and names the reason', () => {
    const v1 = Buffer.from(JSON.stringify({ schemaVersion: '1.0', cluster: 'c', resolution: 'native', producedAt: T, points: [] }));
    const decoded = metricPointBatchCodec.decode(v1);
    expect(decoded.ok || decoded.error.reason).toBe('unsupported-version');
  });

  it('agrees with zod on 3,000 random mutations: the fast path accepts exactly what zod accepts unchanged, with the same result', () => {
    let seed = 7;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const pick = <X>(xs: readonly X[]): X => xs[Math.floor(random() * xs.length)]!;
    const odd: unknown[] = [null, '', 'x', 0, -1, 1.5, 2 ** 53, true, [], {}, ['a'], { a: 1 }, 'pod', '1h'];
    const paths = (j: unknown, at: (string | number)[] = []): (string | number)[][] =>
      typeof j !== 'object' || j === null ? [at] : [at, ...(Array.isArray(j) ? j.map((_, i) => i) : Object.keys(j)).flatMap((k) => paths((j as Record<string | number, unknown>)[k], [...at, k]))];
    let rejected = 0;
    for (let i = 0; i < 3_000; i++) {
      const json = wire();
      const path = pick(paths(json).filter((p) => p.length > 0));
      let target = json as Record<string | number, unknown>;
      for (const k of path.slice(0, -1)) target = target[k] as Record<string | number, unknown>;
      const how = pick(['set', 'set', 'delete', 'add'] as const);
      if (how === 'set') target[path.at(-1)!] = pick(odd);
      else if (how === 'delete' && Array.isArray(target)) (target as unknown[]).splice(Number(path.at(-1)), 1);
      else if (how === 'delete') delete target[path.at(-1)!];
      else if (typeof target === 'object' && !Array.isArray(target)) target.extra = pick(odd);
      const parsed = metricPointsV2Schema.safeParse(json);
      const zodExact = parsed.success && isDeepStrictEqual(parsed.data, json);
      const fast = expandExact(json);
      if (!!fast !== zodExact) throw new Error(`fast path ${fast ? 'accepts' : 'refuses'} what zod ${zodExact ? 'accepts unchanged' : 'does not'}: ${JSON.stringify(json)}`);
      if (fast && parsed.success) expect(fast).toEqual(expandParsed(parsed.data));
      if (!fast) rejected++;
    }
    expect(rejected).toBeGreaterThan(1_500);
    expect(rejected).toBeLessThan(3_000);
  });
});
