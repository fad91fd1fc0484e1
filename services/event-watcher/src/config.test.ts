import { describe, expect, it } from 'vitest';
import { loadConfig } from '@heapstream/service-runtime';
import { eventWatcherConfigSchema, leaseName } from './config.js';

const env = { KAFKA_BROKERS: '127.0.0.1:9092' };

describe('event-watcher config', () => {
  it('has working defaults', () => {
    const c = loadConfig(eventWatcherConfigSchema, env);
    expect(c.EVENTS_NAMESPACES).toEqual([]);
    expect(c.EVENTS_BACKFILL_MAX_AGE).toBeUndefined();
    expect(c.LEASE_DURATION).toBe(15_000);
    expect(leaseName(c)).toBe('heapstream-event-watcher');
  });
  it('parses lists, durations and the back-fill cut-off', () => {
    const c = loadConfig(eventWatcherConfigSchema, { ...env, EVENTS_NAMESPACES: 'a, b', EVENTS_EXCLUDE_REASONS: 'Pulled,Pulling', EVENTS_BACKFILL_MAX_AGE: '30m', HEAPSTREAM_TOPIC_PREFIX: 'Test_1.' });
    expect(c.EVENTS_NAMESPACES).toEqual(['a', 'b']);
    expect(c.EVENTS_EXCLUDE_REASONS).toEqual(['Pulled', 'Pulling']);
    expect(c.EVENTS_BACKFILL_MAX_AGE).toBe(1_800_000);
    expect(leaseName(c)).toBe('test-1.heapstream-event-watcher');
  });
  it('names the variable when a value is wrong', () => {
    expect(() => loadConfig(eventWatcherConfigSchema, { ...env, EVENTS_BACKFILL_MAX_AGE: 'yesterday' })).toThrow(/EVENTS_BACKFILL_MAX_AGE/);
    expect(() => loadConfig(eventWatcherConfigSchema, { ...env, LEASE_RENEW_DEADLINE: '20s' })).toThrow(/LEASE_RENEW_DEADLINE/);
    expect(() => loadConfig(eventWatcherConfigSchema, { ...env, EVENTS_API: 'v2' })).toThrow(/EVENTS_API/);
  });
});
