import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kafka } from 'kafkajs';
import { EVENT_WATCHER_CHECKPOINT_TOPIC, EVENTS_TOPIC, HEAPSTER_EVENTS_TOPIC, decodeHeapsterEvent } from '@heapstream/contracts';
import type { KubeHttp } from '@heapstream/kube';
import { createTopics, readTopic, testKafka, uniqueName, waitFor } from '@heapstream/testing';
import { KafkaEventOutput } from './output/kafka-output.js';
import type { EventOutput, OutputBatch } from './output/event-output.js';
import { eventStreams } from './streams.js';
import { EventWatcher, noopMetrics, type EventWatcherOptions, type WatcherMetrics } from './watcher.js';
import {
  collectRecords,
  compactEtcd,
  createCoreEvent,
  createNamespace,
  createNewEvent,
  diffIds,
  idsFor,
  kubeHttp,
  readAllRecords,
  repeatCoreEvent,
  repeatNewEvent,
  touchCoreEvent,
} from './testing/harness.js';

let http: KubeHttp;
let kafka: Kafka;

beforeAll(async () => {
  http = await kubeHttp();
  kafka = testKafka('event-watcher-it');
});

interface Setup {
  ns: string;
  topics: { events: string; checkpoints: string; heapster: string };
}

async function setup(): Promise<Setup> {
  const ns = uniqueName('ew');
  await createNamespace(http, ns);
  const topics = { events: `${ns}.${EVENTS_TOPIC}`, checkpoints: `${ns}.${EVENT_WATCHER_CHECKPOINT_TOPIC}`, heapster: `${ns}.${HEAPSTER_EVENTS_TOPIC}` };
  await createTopics(kafka, [
    { topic: topics.events, numPartitions: 3 },
    { topic: topics.checkpoints, compacted: true },
    { topic: topics.heapster },
  ]);
  return { ns, topics };
}

class CountingMetrics implements WatcherMetrics {
  relists = 0;
  gone = 0;
  termFailures = 0;
  seen() {}
  outcome() {}
  emitted() {}
  listed(_s: string, _n: number, relist: boolean) {
    if (relist) this.relists++;
  }
  watchEnded(reason: string) {
    if (reason === 'gone') this.gone++;
  }
  committed() {}
  termFailed() {
    this.termFailures++;
  }
}

function start(s: Setup, extra: Partial<EventWatcherOptions> & { wrap?: (o: EventOutput) => EventOutput } = {}) {
  const base = new KafkaEventOutput({ kafka, eventsTopic: s.topics.events, checkpointTopic: s.topics.checkpoints, heapsterTopic: s.topics.heapster, transactionalId: `${s.ns}-watcher` });
  const output = extra.wrap ? extra.wrap(base) : base;
  const watcher = new EventWatcher({
    http,
    output,
    streams: eventStreams('events.k8s.io/v1', [s.ns]),
    heapsterTopic: s.topics.heapster,
    cluster: 'it',
    flushIntervalMs: 50,
    silenceTimeoutMs: 15_000,
    metrics: noopMetrics,
    log: process.env.DEBUG_EVENT_WATCHER ? (level, msg, x) => console.log(level, msg, JSON.stringify(x ?? {})) : undefined,
    ...extra,
  });
  const ctl = new AbortController();
  const running = watcher.run(ctl.signal);
  return {
    watcher,
    established: () => watcher.status().established,
    stop: async () => {
      ctl.abort();
      await running;
    },
  };
}

async function expectExactly(topic: string, expected: string[]) {
  const all = await readAllRecords(kafka, topic);
  expect(diffIds(all, expected)).toEqual({ missing: [], duplicated: [], unexpected: [] });
  return all;
}

describe('event watcher against the real API server and Kafka', () => {
  it('exports every occurrence exactly once, including repeats, across a restart', async () => {
    const s = await setup();
    const collector = await collectRecords(kafka, s.topics.events);
    try {
      // Before the first start: back-filled (cut-off "all").
      const pre1 = await createCoreEvent(http, s.ns, 'pre-1');
      const pre2 = await createCoreEvent(http, s.ns, 'pre-2', { count: 3 });
      const a = start(s, { filter: { excludeReasons: ['Ignored'] } });
      await waitFor('watch established', async () => a.established(), { timeoutMs: 30_000 });
      const c: Awaited<ReturnType<typeof createCoreEvent>>[] = [];
      for (let i = 1; i <= 5; i++) c.push(await createCoreEvent(http, s.ns, `c-${i}`));
      const n1 = await createNewEvent(http, s.ns, 'n-1');
      const n2 = await createNewEvent(http, s.ns, 'n-2');
      await createCoreEvent(http, s.ns, 'ignored', { reason: 'Ignored' });
      await repeatCoreEvent(http, s.ns, 'c-1');
      await repeatCoreEvent(http, s.ns, 'c-1');
      await touchCoreEvent(http, s.ns, 'c-2');
      await repeatNewEvent(http, s.ns, 'n-1');
      await repeatNewEvent(http, s.ns, 'n-1');
      const expectedA = [
        ...idsFor(pre1.metadata.uid, 1),
        ...idsFor(pre2.metadata.uid, 3),
        ...idsFor(c[0]!.metadata.uid, 3),
        ...c.slice(1).flatMap((e) => idsFor(e.metadata.uid, 1)),
        ...idsFor(n1.metadata.uid, 3),
        ...idsFor(n2.metadata.uid, 1),
      ];
      await waitFor('first records', async () => diffIds(collector.records, expectedA).missing.length === 0, { timeoutMs: 30_000 });
      await a.stop();

      // While stopped: a new event and a repeat; the restarted watcher resumes from its checkpoint.
      const c6 = await createCoreEvent(http, s.ns, 'c-6');
      await repeatCoreEvent(http, s.ns, 'c-3');
      const b = start(s, { filter: { excludeReasons: ['Ignored'] } });
      const expected = [...expectedA, ...idsFor(c6.metadata.uid, 1), `${c[2]!.metadata.uid}:2`];
      await waitFor('records after restart', async () => diffIds(collector.records, expected).missing.length === 0, { timeoutMs: 30_000 });
      await b.stop();

      const all = await expectExactly(s.topics.events, expected);
      const c1 = all.filter((r) => r.event.uid === c[0]!.metadata.uid).sort((x, y) => x.occurrence - y.occurrence);
      expect(c1.map((r) => [r.occurrence, r.occurrenceCount])).toEqual([
        [1, 1],
        [2, 2],
        [3, 3],
      ]);
      expect(c1[0]!.involvedObject).toMatchObject({ kind: 'Pod', name: 'c-1-obj', namespace: s.ns });
      // Heapster-compatible output: one message per update that emitted, in Heapster's shape.
      const heapster = await readTopic(kafka, s.topics.heapster, (m) => m.length >= 1, 10_000);
      expect(heapster.length).toBeGreaterThan(0);
      const h = decodeHeapsterEvent(heapster[0]!.value);
      expect(h.ok && h.value.EventTags.eventID).toBeTruthy();
    } finally {
      await collector.stop();
    }
  });

  it('counts an Event recreated under its name after deletion (client-go after expiry) as one more occurrence, across a restart', async () => {
    const s = await setup();
    const collector = await collectRecords(kafka, s.topics.events);
    try {
      const a = start(s);
      await waitFor('watch established', async () => a.established(), { timeoutMs: 30_000 });
      const old = await createCoreEvent(http, s.ns, 'recreated', { count: 40 });
      await waitFor('the first 40', async () => diffIds(collector.records, idsFor(old.metadata.uid, 40)).missing.length === 0, { timeoutMs: 30_000 });
      // The API server expires it; the watcher sees the deletion and keeps its history.
      await http.request('DELETE', `/api/v1/namespaces/${s.ns}/events/recreated`);
      await new Promise((r) => setTimeout(r, 1_000));
      await a.stop();

      // Recreated while the watcher was down: same name, new uid, count 41.
      const again = await createCoreEvent(http, s.ns, 'recreated', { count: 41 });
      expect(again.metadata.uid).not.toBe(old.metadata.uid);
      const b = start(s);
      const expected = [...idsFor(old.metadata.uid, 40), `${again.metadata.uid}:41`];
      await waitFor('the recreation', async () => diffIds(collector.records, expected).missing.length === 0, { timeoutMs: 30_000 });
      await new Promise((r) => setTimeout(r, 1_000));
      await b.stop();
      const all = await expectExactly(s.topics.events, expected);
      expect(all.find((r) => r.event.uid === again.metadata.uid)).toMatchObject({ occurrence: 41, inferred: false });
    } finally {
      await collector.stop();
    }
  });

  it('relists after etcd compaction (410 Gone) and emits only what it had not emitted', async () => {
    const s = await setup();
    const metrics = new CountingMetrics();
    const a = start(s);
    await waitFor('watch established', async () => a.established(), { timeoutMs: 30_000 });
    const e1 = await createCoreEvent(http, s.ns, 'e-1');
    const e2 = await createCoreEvent(http, s.ns, 'e-2', { count: 2 });
    const collector = await collectRecords(kafka, s.topics.events);
    try {
      await waitFor('e-1 and e-2', async () => diffIds(collector.records, [...idsFor(e1.metadata.uid, 1), ...idsFor(e2.metadata.uid, 2)]).missing.length === 0, { timeoutMs: 30_000 });
      await a.stop();
      await repeatCoreEvent(http, s.ns, 'e-1');
      const e3 = await createCoreEvent(http, s.ns, 'e-3');
      await compactEtcd();
      const b = start(s, { metrics });
      const expected = [...idsFor(e1.metadata.uid, 2), ...idsFor(e2.metadata.uid, 2), ...idsFor(e3.metadata.uid, 1)];
      await waitFor('records after relist', async () => diffIds(collector.records, expected).missing.length === 0, { timeoutMs: 30_000 });
      expect(metrics.gone).toBeGreaterThanOrEqual(1);
      expect(metrics.relists).toBeGreaterThanOrEqual(1);
      await b.stop();
      await expectExactly(s.topics.events, expected);
    } finally {
      await collector.stop();
    }
  });

  it('loses and duplicates nothing when Kafka commits fail, before or after the broker applied them', async () => {
    const s = await setup();
    const metrics = new CountingMetrics();
    let calls = 0;
    const wrap = (inner: EventOutput): EventOutput => ({
      open: () => inner.open(),
      restore: () => inner.restore(),
      close: () => inner.close(),
      async commit(batch: OutputBatch) {
        calls++;
        if (batch.records.length > 0 && calls % 4 === 2) throw new Error('injected: broker unavailable');
        await inner.commit(batch);
        if (batch.records.length > 0 && calls % 4 === 0) throw new Error('injected: commit answer lost');
      },
    });
    const w = start(s, { metrics, wrap });
    await waitFor('watch established', async () => w.established(), { timeoutMs: 30_000 });
    const expected: string[] = [];
    for (let i = 1; i <= 12; i++) {
      const e = await createCoreEvent(http, s.ns, `f-${i}`);
      expected.push(`${e.metadata.uid}:1`);
      if (i % 3 === 0) {
        await repeatCoreEvent(http, s.ns, `f-${i}`);
        expected.push(`${e.metadata.uid}:2`);
      }
      await waitFor('progress', async () => calls >= i, { timeoutMs: 30_000 });
    }
    const collector = await collectRecords(kafka, s.topics.events);
    try {
      await waitFor('all records', async () => diffIds(collector.records, expected).missing.length === 0, { timeoutMs: 60_000 });
    } finally {
      await collector.stop();
    }
    await w.stop();
    expect(metrics.termFailures).toBeGreaterThanOrEqual(2);
    await expectExactly(s.topics.events, expected);
  });

  it('truncates huge messages with a marker and splits one Event\'s many occurrences across transactions', async () => {
    const s = await setup();
    // Kafka's default batch limit (the local broker allows 16 MiB).
    const admin = kafka.admin();
    await admin.connect();
    await admin
      .alterConfigs({ validateOnly: false, resources: [{ type: 2, name: s.topics.events, configEntries: [{ name: 'max.message.bytes', value: String(1024 * 1024) }] }] })
      .finally(() => admin.disconnect());
    const w = start(s, { maxExpand: 200 });
    await waitFor('watch established', async () => w.established(), { timeoutMs: 30_000 });
    // 150 occurrences x 16 KiB: one partition, far above the broker's 1 MiB batch limit.
    const big = await createCoreEvent(http, s.ns, 'big', { count: 150, message: 'x'.repeat(200_000) });
    const expected = idsFor(big.metadata.uid, 150);
    const collector = await collectRecords(kafka, s.topics.events);
    try {
      await waitFor('records', async () => diffIds(collector.records, expected).missing.length === 0, { timeoutMs: 60_000 });
    } finally {
      await collector.stop();
    }
    await w.stop();
    const all = await expectExactly(s.topics.events, expected);
    const last = all.find((r) => r.occurrence === 150)!;
    expect(last.event).toMatchObject({ messageTruncated: true, messageBytes: 200_000 });
    expect(last.event.message).toMatch(/…\[truncated, 200000 bytes\]$/);
    expect(Buffer.byteLength(last.event.message!)).toBeLessThanOrEqual(16_384);
  });

  it('back-fills only events newer than the cut-off on the first start', async () => {
    const s = await setup();
    const old = await createCoreEvent(http, s.ns, 'old', { count: 2, at: Date.now() - 2 * 3_600_000 });
    const fresh = await createCoreEvent(http, s.ns, 'fresh');
    const w = start(s, { backfillMaxAgeMs: 30 * 60_000 });
    await waitFor('watch established', async () => w.established(), { timeoutMs: 30_000 });
    await repeatCoreEvent(http, s.ns, 'old');
    const expected = [`${fresh.metadata.uid}:1`, `${old.metadata.uid}:3`];
    const collector = await collectRecords(kafka, s.topics.events);
    try {
      await waitFor('records', async () => diffIds(collector.records, expected).missing.length === 0, { timeoutMs: 30_000 });
    } finally {
      await collector.stop();
    }
    await w.stop();
    await expectExactly(s.topics.events, expected);
  });
});

afterAll(async () => {
  // Nothing shared to clean: every test used its own namespace and topics.
});
