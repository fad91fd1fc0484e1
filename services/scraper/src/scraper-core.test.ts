import { describe, expect, it } from 'vitest';
import { loadConfig } from '@heapstream/service-runtime';
import { defaultWorkers, scraperConfigSchema, staticShardIndex } from './config.js';
import { kubeletTarget } from './discovery/kubelet-target.js';
import { RoundScheduler } from './schedule/round-scheduler.js';
import { ownerOf } from './sharding/rendezvous.js';

describe('kubeletTarget', () => {
  const node = {
    metadata: { name: 'n1' },
    status: {
      addresses: [{ type: 'Hostname', address: 'n1.local' }, { type: 'InternalIP', address: '10.0.0.5' }],
      daemonEndpoints: { kubeletEndpoint: { Port: 10255 } },
    },
  };
  it('takes the first address of the preferred types and the reported port', () => {
    expect(kubeletTarget(node, ['InternalIP', 'Hostname'], 10250)).toEqual({ node: 'n1', host: '10.0.0.5', port: 10255 });
    expect(kubeletTarget(node, ['ExternalIP', 'Hostname'], 10250)).toEqual({ node: 'n1', host: 'n1.local', port: 10255 });
  });
  it('falls back to the default port and refuses nodes without a preferred address', () => {
    expect(kubeletTarget({ metadata: { name: 'n2' }, status: { addresses: [{ type: 'InternalIP', address: '10.0.0.6' }] } }, ['InternalIP'], 10250)?.port).toBe(10250);
    expect(kubeletTarget(node, ['ExternalIP'], 10250)).toBeUndefined();
  });
});

describe('rendezvous ownership', () => {
  const nodes = Array.from({ length: 3000 }, (_, i) => `node-${i}`);
  it('gives every node exactly one owner and spreads them evenly', () => {
    const counts = new Map<string, number>();
    for (const n of nodes) counts.set(ownerOf(n, ['0', '1', '2'])!, (counts.get(ownerOf(n, ['0', '1', '2'])!) ?? 0) + 1);
    for (const c of counts.values()) expect(c).toBeGreaterThan(850);
    expect([...counts.values()].reduce((a, b) => a + b)).toBe(3000);
  });
  it('moves only the leaving member\'s nodes when one leaves', () => {
    const moved = nodes.filter((n) => ownerOf(n, ['0', '1', '2']) !== ownerOf(n, ['0', '1']));
    expect(moved.every((n) => ownerOf(n, ['0', '1', '2']) === '2')).toBe(true);
  });
});

describe('config', () => {
  const base = { KAFKA_BROKERS: '127.0.0.1:9092' };
  it('rejects a timeout that is not below the interval, naming the variable', () => {
    expect(() => loadConfig(scraperConfigSchema, { ...base, SCRAPER_INTERVAL: '10s', SCRAPER_TIMEOUT: '10s' })).toThrow(/SCRAPER_TIMEOUT: must be below SCRAPER_INTERVAL/);
  });
  it('rejects unknown address types and requires a client cert in client-cert mode', () => {
    expect(() => loadConfig(scraperConfigSchema, { ...base, SCRAPER_ADDRESS_TYPES: 'InternalIP,Bogus' })).toThrow(/SCRAPER_ADDRESS_TYPES/);
    expect(() => loadConfig(scraperConfigSchema, { ...base, KUBELET_AUTH: 'client-cert' })).toThrow(/KUBELET_CLIENT_CERT_FILE/);
  });
  it('takes SCRAPER_WORKERS as a count (default 0) or auto: one worker per CPU, at most 4, none on one CPU', () => {
    expect(loadConfig(scraperConfigSchema, { ...base, SCRAPER_WORKERS: '3' }).SCRAPER_WORKERS).toBe(3);
    expect(loadConfig(scraperConfigSchema, { ...base, SCRAPER_WORKERS: '0' }).SCRAPER_WORKERS).toBe(0);
    expect(loadConfig(scraperConfigSchema, base).SCRAPER_WORKERS).toBe(0);
    expect(loadConfig(scraperConfigSchema, { ...base, SCRAPER_WORKERS: 'auto' }).SCRAPER_WORKERS).toBe(defaultWorkers());
    expect([1, 2, 3, 16].map((cpus) => defaultWorkers(cpus))).toEqual([0, 2, 3, 4]);
    expect(() => loadConfig(scraperConfigSchema, { ...base, SCRAPER_WORKERS: 'many' })).toThrow(/SCRAPER_WORKERS/);
  });
  it('takes the shard index from the StatefulSet ordinal', () => {
    expect(staticShardIndex({ POD_NAME: 'heapstream-scraper-3' })).toBe(3);
    expect(staticShardIndex({ SCRAPER_SHARD_INDEX: 1, POD_NAME: 'x-3' })).toBe(1);
  });
});

describe('RoundScheduler', () => {
  it('does not let a slow node delay the others, and skips it while its scrape still runs', async () => {
    const done: string[] = [];
    const started: string[] = [];
    let releaseSlow!: () => void;
    const slow = new Promise<void>((r) => (releaseSlow = r));
    const reports: { scheduled: number; succeeded: number; skipped: number }[] = [];
    const scheduler = new RoundScheduler({
      intervalMs: 60_000,
      jitterMs: 0,
      concurrency: 10,
      targets: () => [{ node: 'slow' }, { node: 'a' }, { node: 'b' }],
      scrape: async ({ node }) => {
        started.push(node);
        if (node === 'slow') await slow;
        done.push(node);
      },
      onRound: (r) => reports.push(r),
    });
    const first = scheduler.runRound(Date.now());
    await new Promise((r) => setTimeout(r, 20));
    expect(done.sort()).toEqual(['a', 'b']);
    await scheduler.runRound(Date.now());
    // The second round finished while the slow node of the first is still running.
    expect(done.sort()).toEqual(['a', 'a', 'b', 'b']);
    expect(started.filter((n) => n === 'slow')).toHaveLength(1);
    expect(reports).toEqual([expect.objectContaining({ scheduled: 3, succeeded: 2, skipped: 1 })]);
    releaseSlow();
    await first;
    expect(reports[1]).toMatchObject({ scheduled: 3, succeeded: 3, skipped: 0 });
  });

  it('keeps at most `concurrency` scrapes in flight and counts failures', async () => {
    let active = 0;
    let peak = 0;
    const reports: unknown[] = [];
    const scheduler = new RoundScheduler({
      intervalMs: 60_000,
      jitterMs: 0,
      concurrency: 3,
      targets: () => Array.from({ length: 12 }, (_, i) => ({ node: `n${i}` })),
      scrape: async ({ node }) => {
        peak = Math.max(peak, ++active);
        await new Promise((r) => setTimeout(r, 5));
        active--;
        if (node === 'n7') throw new Error('down');
      },
      onRound: (r) => reports.push(r),
    });
    await scheduler.runRound(Date.now());
    expect(peak).toBe(3);
    expect(reports).toEqual([expect.objectContaining({ scheduled: 12, succeeded: 11, failed: 1, skipped: 0 })]);
  });

  it('lets a scrape give its slot back early while the node still counts as running', async () => {
    let active = 0;
    let peak = 0;
    let ack!: () => void;
    const acked = new Promise<void>((r) => (ack = r));
    const reports: { succeeded: number }[] = [];
    const scheduler = new RoundScheduler({
      intervalMs: 60_000,
      jitterMs: 0,
      concurrency: 2,
      targets: () => Array.from({ length: 6 }, (_, i) => ({ node: `n${i}` })),
      scrape: async (_t, _start, slot) => {
        peak = Math.max(peak, ++active);
        await new Promise((r) => setTimeout(r, 2));
        active--;
        slot.release();
        slot.release(); // idempotent: a second call frees nothing more
        await acked; // the Kafka acknowledgement, waited for without a slot
      },
      onRound: (r) => reports.push(r),
    });
    const round = scheduler.runRound(Date.now());
    await new Promise((r) => setTimeout(r, 50));
    // Every node got through its slotted part although none has finished.
    expect(peak).toBe(2);
    expect(reports).toHaveLength(0);
    expect(active).toBe(0);
    // The nodes still run: a second round skips them all.
    await scheduler.runRound(Date.now());
    expect(reports[0]).toMatchObject({ scheduled: 6, skipped: 6 });
    ack();
    await round;
    expect(reports[1]).toMatchObject({ scheduled: 6, succeeded: 6 });
  });

  it('spreads node start times over the jitter window, deterministically per node', async () => {
    const startedAt = new Map<string, number>();
    const t0 = Date.now();
    const scheduler = new RoundScheduler({
      intervalMs: 60_000,
      jitterMs: 200,
      concurrency: 100,
      targets: () => Array.from({ length: 20 }, (_, i) => ({ node: `n${i}` })),
      scrape: async ({ node }) => void startedAt.set(node, Date.now() - t0),
    });
    await scheduler.runRound(t0);
    const offsets = [...startedAt.values()];
    expect(Math.max(...offsets)).toBeLessThan(400);
    expect(Math.max(...offsets) - Math.min(...offsets)).toBeGreaterThan(50);
  });
});
