import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { EVENT_WATCHER_CHECKPOINT_TOPIC, EVENTS_TOPIC } from '@heapstream/contracts';
import type { KubeHttp } from '@heapstream/kube';
import { createTopics, restartServer, startPrivateKubeApiserver, stopServer, testEnv, testKafka, uniqueName, waitFor } from '@heapstream/testing';
import { collectRecords, createCoreEvent, createNamespace, diffIds, idsFor, kubeHttp, readAllRecords, repeatCoreEvent } from './testing/harness.js';
import { spawnWatcher, type WatcherProcess } from './testing/process.js';

let http: KubeHttp;
let kafka: Kafka;

beforeAll(async () => {
  http = await kubeHttp();
  kafka = testKafka('event-watcher-process-it');
});

/** A namespace, topics and watcher environment for one test, on the shared API server unless given another. */
async function setup(api: { http: KubeHttp; kubeconfig: string } = { http, kubeconfig: testEnv().KUBECONFIG }) {
  const ns = uniqueName('ewp');
  await createNamespace(api.http, ns);
  const prefix = `${ns}.`;
  const events = `${prefix}${EVENTS_TOPIC}`;
  await createTopics(kafka, [
    { topic: events, numPartitions: 3 },
    { topic: `${prefix}${EVENT_WATCHER_CHECKPOINT_TOPIC}`, compacted: true },
  ]);
  const env = {
    KAFKA_BROKERS: testEnv().KAFKA_BROKERS,
    KUBECONFIG: api.kubeconfig,
    HEAPSTREAM_TOPIC_PREFIX: prefix,
    EVENTS_NAMESPACES: ns,
    LEASE_NAMESPACE: ns,
    LEASE_NAME: 'event-watcher',
    LEASE_DURATION: '4s',
    LEASE_RENEW_DEADLINE: '3s',
    LEASE_RETRY_PERIOD: '500ms',
    EVENTS_FLUSH_INTERVAL: '50ms',
    EVENTS_WATCH_SILENCE: '20s',
  };
  return { ns, events, env, logDir: join(tmpdir(), 'heapstream-event-watcher-it', ns) };
}

/** Creates `n` events, repeating every third one, calling `midway` after half. */
async function produce(ns: string, n: number, midway: () => Promise<void>): Promise<string[]> {
  const expected: string[] = [];
  for (let i = 1; i <= n; i++) {
    const e = await createCoreEvent(http, ns, `p-${i}`);
    expected.push(`${e.metadata.uid}:1`);
    if (i % 3 === 0) {
      await repeatCoreEvent(http, ns, `p-${i}`);
      expected.push(`${e.metadata.uid}:2`);
    }
    if (i === Math.floor(n / 2)) await midway();
  }
  return expected;
}

async function stopAll(procs: WatcherProcess[]) {
  for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(procs.map((p) => p.exited));
}

describe('event-watcher processes', () => {
  it('exports exactly once after the watcher is SIGKILLed mid-stream and restarted', async () => {
    const s = await setup();
    const collector = await collectRecords(kafka, s.events);
    const procs: WatcherProcess[] = [];
    try {
      const a = await spawnWatcher('a', s.env, s.logDir);
      procs.push(a);
      await waitFor('a leads and is ready', async () => (await a.isLeader()) && (await a.ready()), { timeoutMs: 60_000 });
      const expected = await produce(s.ns, 30, async () => {
        // Let some of the stream be in flight, then kill without any chance to flush.
        await waitFor('some records', async () => collector.records.length > 5, { timeoutMs: 30_000 });
        a.child.kill('SIGKILL');
        await a.exited;
        procs.push(await spawnWatcher('b', s.env, s.logDir));
      });
      await waitFor('all records', async () => diffIds(collector.records, expected).missing.length === 0, { timeoutMs: 60_000 });
      await stopAll(procs);
      expect(diffIds(await readAllRecords(kafka, s.events), expected)).toEqual({ missing: [], duplicated: [], unexpected: [] });
    } finally {
      await stopAll(procs);
      await collector.stop();
    }
  });

  it('hands over between two replicas within the lease duration, with no gap and no duplicate', async () => {
    const s = await setup();
    const collector = await collectRecords(kafka, s.events);
    const a = await spawnWatcher('r1', s.env, s.logDir);
    const b = await spawnWatcher('r2', s.env, s.logDir);
    const procs = [a, b];
    try {
      let leader: WatcherProcess | undefined;
      await waitFor(
        'one leader',
        async () => {
          const flags = await Promise.all(procs.map((p) => p.isLeader().catch(() => false)));
          leader = flags[0] ? a : flags[1] ? b : undefined;
          return flags.filter(Boolean).length === 1 && (await leader!.ready());
        },
        { timeoutMs: 60_000 },
      );
      const standby = leader === a ? b : a;
      // A standby is ready (it has seen the leader) though it does not watch.
      await waitFor('standby ready', () => standby.ready(), { timeoutMs: 60_000 });
      expect(await standby.isLeader()).toBe(false);
      let failoverMs = 0;
      const expected = await produce(s.ns, 30, async () => {
        await waitFor('some records', async () => collector.records.length > 5, { timeoutMs: 30_000 });
        const killedAt = Date.now();
        leader!.child.kill('SIGKILL');
        await waitFor('standby takes over', () => standby.isLeader(), { timeoutMs: 20_000, intervalMs: 100 });
        failoverMs = Date.now() - killedAt;
      });
      await waitFor('all records', async () => diffIds(collector.records, expected).missing.length === 0, { timeoutMs: 60_000 });
      // Lease 4 s: the standby sees the lease unchanged for 4 s, then wins at its next retry.
      expect(failoverMs).toBeLessThan(4_000 + 2_000);
      await stopAll(procs);
      expect(diffIds(await readAllRecords(kafka, s.events), expected)).toEqual({ missing: [], duplicated: [], unexpected: [] });
    } finally {
      await stopAll(procs);
      await collector.stop();
    }
  });

  // Restarts an API server of its own (same etcd, own key prefix), so no other test notices.
  it('keeps going when the API server restarts, exporting every occurrence exactly once', async () => {
    const api = await startPrivateKubeApiserver('ew-restart', 16_453);
    const privateHttp = await kubeHttp(api.kubeconfig);
    const s = await setup({ http: privateHttp, kubeconfig: api.kubeconfig });
    const collector = await collectRecords(kafka, s.events);
    const w = await spawnWatcher('solo', { ...s.env, EVENTS_WATCH_SILENCE: '5s' }, s.logDir);
    try {
      await waitFor('leads and is ready', async () => (await w.isLeader()) && (await w.ready()), { timeoutMs: 60_000 });
      const before = await createCoreEvent(privateHttp, s.ns, 'before');
      await waitFor('before', async () => diffIds(collector.records, [`${before.metadata.uid}:1`]).missing.length === 0, { timeoutMs: 30_000 });
      await restartServer(api.name);
      await repeatCoreEvent(privateHttp, s.ns, 'before');
      const after = await createCoreEvent(privateHttp, s.ns, 'after');
      const expected = [...idsFor(before.metadata.uid, 2), `${after.metadata.uid}:1`];
      await waitFor('records after the restart', async () => diffIds(collector.records, expected).missing.length === 0, { timeoutMs: 60_000 });
      await waitFor('ready again', () => w.ready(), { timeoutMs: 60_000 });
      await stopAll([w]);
      expect(diffIds(await readAllRecords(kafka, s.events), expected)).toEqual({ missing: [], duplicated: [], unexpected: [] });
    } finally {
      await stopAll([w]);
      await collector.stop();
      await stopServer(api.name);
    }
  });
});
