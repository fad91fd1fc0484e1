import { describe, expect, it } from 'vitest';
import { formatInfluxDuration, influxConfigSchema, parseInfluxDuration, tierTargets } from './config.js';
import { classifyResponse, InfluxWriteError, parseRetryAfter, rejectReason } from './errors.js';
import type { InfluxEndpoint } from './http.js';
import { droppedCount, linesNamedBy, parseLineHead } from './line-parse.js';
import { shardDurationFor } from './setup.js';
import { InfluxWriter } from './writer.js';

const ep: InfluxEndpoint = { url: 'http://x', token: '', org: '', timeoutMs: 1000, gzip: false };
const fast = { initialMs: 1, maxMs: 2, jitter: 0 };

describe('config', () => {
  it('parses InfluxQL and SHOW RETENTION POLICIES durations', () => {
    expect(parseInfluxDuration('7d')).toBe(7 * 86_400_000);
    expect(parseInfluxDuration('168h0m0s')).toBe(7 * 86_400_000);
    expect(parseInfluxDuration('0s')).toBe(0);
    expect(parseInfluxDuration('INF')).toBe(0);
    expect(parseInfluxDuration('soon')).toBeUndefined();
    expect(formatInfluxDuration(7 * 86_400_000)).toBe('1w');
    expect(formatInfluxDuration(36 * 3_600_000)).toBe('36h');
    expect(formatInfluxDuration(0)).toBe('INF');
    expect(shardDurationFor(86_400_000)).toBe(3_600_000);
  });

  it('defaults to the 1.x layout (database k8s, one policy per tier) and refuses both layouts at once', () => {
    const c = influxConfigSchema.parse({ INFLUX_URL: 'http://127.0.0.1:8086' });
    expect(tierTargets(c).raw).toEqual({ tier: 'raw', bucket: 'k8s/raw', database: 'k8s', retentionPolicy: 'raw', retentionMs: 7 * 86_400_000 });
    expect(tierTargets(c)['1h'].bucket).toBe('k8s/rollup_1h');
    const v2 = influxConfigSchema.parse({ INFLUX_URL: 'http://x', INFLUX_BUCKET: 'k8s' });
    expect(tierTargets(v2)['1m'].bucket).toBe('k8s_1m');
    expect(influxConfigSchema.safeParse({ INFLUX_URL: 'http://x', INFLUX_BUCKET: 'a', INFLUX_DATABASE: 'b' }).success).toBe(false);
    expect(influxConfigSchema.safeParse({ INFLUX_URL: 'http://x', INFLUX_RETENTION_RAW: '10m' }).success).toBe(false);
  });
});

describe('error classification', () => {
  it('maps statuses to what the writer does next', () => {
    expect(classifyResponse(204, '')).toBeUndefined();
    expect(classifyResponse(413, '')).toBe('too-large');
    expect(classifyResponse(429, '')).toBe('retryable');
    expect(classifyResponse(503, '')).toBe('retryable');
    expect(classifyResponse(400, '')).toBe('rejected');
    expect(classifyResponse(422, '')).toBe('rejected');
    expect(classifyResponse(404, '')).toBe('not-found');
    expect(classifyResponse(401, '')).toBe('unauthorized');
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6_000);
    expect(rejectReason('partial write: field type conflict: input field "v" ...')).toBe('influx:field-type-conflict');
    expect(rejectReason("partial write: unable to parse 'm v=': missing field value dropped=0")).toBe('influx:parse-error');
    expect(rejectReason('partial write: points beyond retention policy dropped=2')).toBe('influx:beyond-retention');
  });

  it('reads measurement and field types of a line, escapes included', () => {
    expect(parseLineHead('cpu/usage_rate,type=node value=1.5 1')).toEqual({ measurement: 'cpu/usage_rate', fields: new Map([['value', 'float']]) });
    const head = parseLineHead('my\\ m,a=b\\ c x=1i,s="a \\" b",y=true 2')!;
    expect(head.measurement).toBe('my m');
    expect([...head.fields]).toEqual([['x', 'integer'], ['s', 'string'], ['y', 'boolean']]);
  });

  it('finds the lines 1.x, 2.x and 3.x error messages point at', () => {
    const lines = ['m v=1i 1', 'm v=1.5 2', 'n v=2.5 3', 'm v=  4'];
    const all = [0, 1, 2, 3];
    expect([...linesNamedBy('partial write: field type conflict: input field "v" on measurement "m" is type float, already exists as type integer dropped=1', lines, [0, 1, 2])]).toEqual([1]);
    expect([...linesNamedBy("partial write: unable to parse 'm v=  4': missing field value dropped=0", lines, all)]).toEqual([3]);
    expect([...linesNamedBy('{"error":"partial write of line protocol occurred","data":[{"line_number":2}]}', lines, [0, 3])]).toEqual([3]);
    expect(linesNamedBy('partial write: points beyond retention policy dropped=2', lines, all).size).toBe(0);
    expect(droppedCount('points beyond retention policy dropped=2')).toBe(2);
  });
});

/** A fake InfluxDB: rejects lines containing "bad" (like 1.x: writes the rest, answers 400). */
function fakeInflux(opts: { failFirst?: number; maxLines?: number; named?: boolean } = {}) {
  const stored = new Set<string>();
  const requests: string[][] = [];
  let failures = opts.failFirst ?? 0;
  const post = async (_ep: InfluxEndpoint, _bucket: string, body: string) => {
    const lines = body.split('\n').filter(Boolean);
    requests.push(lines);
    if (failures-- > 0) throw new InfluxWriteError('retryable', 'InfluxDB 503', 503, failures === 0 ? 5 : undefined);
    if (opts.maxLines && lines.length > opts.maxLines) throw new InfluxWriteError('too-large', 'InfluxDB 413', 413);
    const bad = lines.filter((l) => l.includes('bad'));
    for (const l of lines) if (!l.includes('bad')) stored.add(l);
    if (bad.length) {
      const msg = opts.named ? `partial write: unable to parse '${bad[0]}': invalid dropped=0` : `partial write: something dropped=${bad.length}`;
      throw new InfluxWriteError('rejected', `InfluxDB 400: ${msg}`, 400, undefined, JSON.stringify({ error: msg }));
    }
  };
  return { stored, requests, post };
}

describe('InfluxWriter', () => {
  it('splits by lines and bytes, retries retryable errors, and reports every line written', async () => {
    const fake = fakeInflux({ failFirst: 2 });
    const retries: number[] = [];
    const writer = new InfluxWriter(ep, { maxLines: 3, maxBytes: 1 << 20, backoff: fast, post: fake.post });
    const lines = Array.from({ length: 7 }, (_, i) => `m v=${i}i ${i}`);
    const result = await writer.write('db/rp', lines, { onRetry: (_e, a) => retries.push(a) });
    expect(result).toMatchObject({ written: 7, rejected: [] });
    expect(fake.stored.size).toBe(7);
    expect(retries).toEqual([0, 1]);
    expect(fake.requests.slice(2).map((r) => r.length)).toEqual([3, 3, 1]);
  });

  it('keeps several requests in flight and still counts every line once', async () => {
    const fake = fakeInflux({ failFirst: 1 });
    const writer = new InfluxWriter(ep, { maxLines: 10, maxBytes: 1 << 20, backoff: fast, post: fake.post, concurrency: 3 });
    const lines = Array.from({ length: 95 }, (_, i) => (i === 50 ? `bad v=${i} ${i}` : `m v=${i}i ${i}`));
    const result = await writer.write('db/rp', lines);
    expect(result.written).toBe(94);
    expect(result.rejected.map((r) => r.index)).toEqual([50]);
    expect(fake.stored.size).toBe(94);
  });

  it('waits at least as long as Retry-After asks', async () => {
    let calls = 0;
    const post = async () => {
      if (calls++ === 0) throw new InfluxWriteError('retryable', 'InfluxDB 429', 429, 300);
    };
    const writer = new InfluxWriter(ep, { maxLines: 10, maxBytes: 1 << 20, backoff: fast, post });
    const started = performance.now();
    await writer.write('db/rp', ['m v=1 1']);
    expect(calls).toBe(2);
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
  });

  it('halves a batch InfluxDB finds too large', async () => {
    const fake = fakeInflux({ maxLines: 2 });
    const writer = new InfluxWriter(ep, { maxLines: 100, maxBytes: 1 << 20, backoff: fast, post: fake.post });
    const result = await writer.write('db/rp', ['a v=1 1', 'a v=2 2', 'a v=3 3', 'a v=4 4', 'a v=5 5']);
    expect(result.written).toBe(5);
    expect(fake.stored.size).toBe(5);
  });

  it('writes the good lines and returns the bad ones, by message or by halving', async () => {
    for (const named of [true, false]) {
      const fake = fakeInflux({ named });
      const writer = new InfluxWriter(ep, { maxLines: 100, maxBytes: 1 << 20, backoff: fast, post: fake.post });
      const lines = Array.from({ length: 20 }, (_, i) => (i === 3 || i === 17 ? `bad v=${i} ${i}` : `m v=${i}i ${i}`));
      const result = await writer.write('db/rp', lines);
      expect(result.rejected.map((r) => r.index).sort((a, b) => a - b)).toEqual([3, 17]);
      expect(result.written).toBe(18);
      expect(fake.stored.size).toBe(18);
      expect(result.rejected[0]!.reason).toBe(named ? 'influx:parse-error' : 'influx:rejected');
    }
  });

  it('rejects a whole batch at once when 1.x says it dropped every point', async () => {
    const fake = fakeInflux();
    const writer = new InfluxWriter(ep, { maxLines: 100, maxBytes: 1 << 20, backoff: fast, post: fake.post });
    const result = await writer.write('db/rp', ['bad 1', 'bad 2', 'bad 3', 'bad 4']);
    expect(result.rejected).toHaveLength(4);
    expect(fake.requests).toHaveLength(1);
  });

  it('stops retrying when aborted, throwing the last error', async () => {
    const fake = fakeInflux({ failFirst: 1_000 });
    const writer = new InfluxWriter(ep, { maxLines: 100, maxBytes: 1 << 20, backoff: fast, post: fake.post });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await expect(writer.write('db/rp', ['m v=1 1'], { signal: ac.signal })).rejects.toThrow(/503|abandoned/);
  });
});
