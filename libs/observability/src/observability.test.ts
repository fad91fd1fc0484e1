import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Writable } from 'node:stream';
import { backoffDelay, retry } from './backoff.js';
import { freshnessCheck, HealthRegistry, stallCheck } from './health.js';
import { OnceLogger } from './logger.js';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({ write(chunk, _enc, cb) { lines.push(JSON.parse(String(chunk))); cb(); } });
  return { logger: pino({ level: 'info' }, stream), lines };
}

describe('backoff', () => {
  it('grows exponentially, caps at maxMs and stays within the jitter band', () => {
    const opts = { initialMs: 100, maxMs: 1000, jitter: 0.5 };
    expect(backoffDelay(0, opts, () => 1)).toBe(100);
    expect(backoffDelay(3, opts, () => 1)).toBe(800);
    expect(backoffDelay(10, opts, () => 1)).toBe(1000);
    expect(backoffDelay(10, opts, () => 0)).toBe(500);
  });

  it('retries retryable errors and throws permanent ones at once', async () => {
    let calls = 0;
    const result = await retry(async () => { if (++calls < 3) throw new Error('busy'); return 'ok'; }, { isRetryable: () => true, backoff: { initialMs: 1, maxMs: 2, jitter: 0 } });
    expect([result, calls]).toEqual(['ok', 3]);
    let permanent = 0;
    await expect(retry(async () => { permanent++; throw new Error('bad'); }, { isRetryable: () => false })).rejects.toThrow('bad');
    expect(permanent).toBe(1);
  });
});

describe('OnceLogger', () => {
  it('logs a cause once per scope until the scope recovers', () => {
    const { logger, lines } = capture();
    const once = new OnceLogger(logger);
    for (let i = 0; i < 5; i++) once.warn('node-1', '401', {}, 'unauthorized');
    once.warn('node-2', '401', {}, 'unauthorized');
    once.recovered('node-1');
    once.warn('node-1', '401', {}, 'unauthorized');
    expect(lines.map((l) => l.scope)).toEqual(['node-1', 'node-2', 'node-1']);
  });

  it('redacts secrets by field name', async () => {
    const { createLogger } = await import('./logger.js');
    const lines: string[] = [];
    const logger = createLogger('t', 'info', new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } }));
    logger.info({ token: 's3cret', kubelet: { headers: { authorization: 'Bearer s3cret' } }, sasl: { password: 's3cret' } }, 'x');
    expect(lines.join('')).not.toContain('s3cret');
    expect(JSON.parse(lines[0]!)).toMatchObject({ service: 't', token: '[redacted]', level: 'info' });
  });
});

describe('HealthRegistry', () => {
  it('is ready only when every check is, and reports a throwing check as not ready', async () => {
    const health = new HealthRegistry();
    let last: number | undefined;
    health.register(freshnessCheck('scrape', () => last, 30_000));
    expect((await health.report()).ok).toBe(false);
    last = Date.now();
    expect((await health.report()).ok).toBe(true);
    health.register({ name: 'broken', check: () => { throw new Error('boom'); } });
    expect(await health.report()).toMatchObject({ ok: false, checks: { broken: { ok: false, detail: 'boom' } } });
    last = Date.now() - 60_000;
    expect((await health.report()).checks.scrape?.detail).toMatch(/limit 30 s/);
  });
});

describe('stallCheck (liveness)', () => {
  it('fails only when there has been work and no progress for longer than the limit', () => {
    let t = 1_000_000;
    let working = false;
    let progress: number | undefined;
    const check = stallCheck('stage', () => working, () => progress, 60_000, () => t);
    expect(check.check()).toMatchObject({ ok: true, detail: 'no work' });
    // Idle for an hour after old progress, then work appears: judged from when it appeared.
    progress = t - 3_600_000;
    working = true;
    expect(check.check()).toMatchObject({ ok: true });
    t += 59_000;
    expect(check.check()).toMatchObject({ ok: true });
    t += 2_000;
    expect(check.check()).toMatchObject({ ok: false, detail: 'no progress for 61 s while there is work (limit 60 s)' });
    progress = t;
    expect(check.check()).toMatchObject({ ok: true });
    // No work (a dependency down, nothing to consume): never a failure.
    t += 3_600_000;
    working = false;
    expect(check.check()).toMatchObject({ ok: true });
  });
});
