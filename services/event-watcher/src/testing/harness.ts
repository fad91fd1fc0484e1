import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { decodeEventRecord, type EventRecord } from '@heapstream/contracts';
import { KubeApiError, KubeHttp, loadKubeConfig } from '@heapstream/kube';
import { testEnv } from '@heapstream/testing';

/** Test helpers: create and repeat Events through the real API, read what reached Kafka. */
export async function kubeHttp(kubeconfigPath = testEnv().KUBECONFIG): Promise<KubeHttp> {
  const http = await KubeHttp.create(loadKubeConfig({ kubeconfigPath }));
  // The API server may be restarting (a fault test's own): wait for it instead of failing.
  const request = http.request.bind(http);
  http.request = (async (method: string, path: string, opts?: Parameters<KubeHttp['request']>[2]) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        return await request(method, path, opts);
      } catch (err) {
        const transient = !(err instanceof KubeApiError) || err.statusCode >= 500 || err.statusCode === 429;
        if (!transient || Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }) as KubeHttp['request'];
  return http;
}

export async function createNamespace(http: KubeHttp, name: string): Promise<void> {
  await http.request('POST', '/api/v1/namespaces', { body: { metadata: { name } } });
}

interface CoreEvent {
  metadata: { name: string; uid: string; resourceVersion: string };
  count?: number;
  message?: string;
  lastTimestamp?: string;
}

const seconds = (ms = Date.now()) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A core/v1 Event as kubelets and controllers write them (count, first/lastTimestamp). */
export async function createCoreEvent(
  http: KubeHttp,
  ns: string,
  name: string,
  opts: { reason?: string; type?: string; kind?: string; count?: number; message?: string; at?: number } = {},
): Promise<CoreEvent> {
  return http.request<CoreEvent>('POST', `/api/v1/namespaces/${ns}/events`, {
    body: {
      metadata: { name },
      involvedObject: { kind: opts.kind ?? 'Pod', name: `${name}-obj`, namespace: ns, apiVersion: 'v1' },
      reason: opts.reason ?? 'BackOff',
      message: opts.message ?? `message of ${name}`,
      type: opts.type ?? 'Warning',
      count: opts.count ?? 1,
      source: { component: 'heapstream-test', host: 'node-1' },
      firstTimestamp: seconds(opts.at),
      lastTimestamp: seconds(opts.at),
    },
  });
}

async function update<T extends { metadata: { name: string } }>(http: KubeHttp, path: string, change: (obj: T) => void): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const obj = await http.request<T>('GET', path);
    change(obj);
    try {
      return await http.request<T>('PUT', path, { body: obj });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.statusCode === 409) || attempt > 10) throw err;
    }
  }
}

/** The event happened again: count + 1, as the client-go recorder does. */
export function repeatCoreEvent(http: KubeHttp, ns: string, name: string): Promise<CoreEvent> {
  return update<CoreEvent>(http, `/api/v1/namespaces/${ns}/events/${name}`, (e) => {
    e.count = (e.count ?? 1) + 1;
    e.lastTimestamp = seconds();
  });
}

/** A MODIFIED that is not a repeat (the count stays). */
export function touchCoreEvent(http: KubeHttp, ns: string, name: string): Promise<CoreEvent> {
  return update<CoreEvent>(http, `/api/v1/namespaces/${ns}/events/${name}`, (e) => {
    e.message = `${e.message ?? ''} (edited ${randomUUID().slice(0, 4)})`;
  });
}

interface NewEvent {
  metadata: { name: string; uid: string };
  series?: { count: number; lastObservedTime: string };
}

const micro = (ms = Date.now()) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** An events.k8s.io/v1 Event as the new recorder writes them (eventTime, series). */
export function createNewEvent(http: KubeHttp, ns: string, name: string): Promise<NewEvent> {
  return http.request<NewEvent>('POST', `/apis/events.k8s.io/v1/namespaces/${ns}/events`, {
    body: {
      metadata: { name },
      eventTime: micro(),
      reportingController: 'heapstream.io/test',
      reportingInstance: 'test-1',
      action: 'Binding',
      reason: 'Scheduled',
      regarding: { kind: 'Pod', name: `${name}-obj`, namespace: ns, apiVersion: 'v1' },
      note: `note of ${name}`,
      type: 'Normal',
    },
  });
}

/** The new recorder's repeat: series.count 2, 3, ... */
export function repeatNewEvent(http: KubeHttp, ns: string, name: string): Promise<NewEvent> {
  return update<NewEvent>(http, `/apis/events.k8s.io/v1/namespaces/${ns}/events/${name}`, (e) => {
    e.series = { count: (e.series?.count ?? 1) + 1, lastObservedTime: micro() };
  });
}

/** Every committed record of the topic, up to its end offsets at the time of the call. */
export async function readAllRecords(kafka: Kafka, topic: string): Promise<EventRecord[]> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const pending = new Map(ends.filter((e) => BigInt(e.high) > BigInt(e.low)).map((e) => [e.partition, BigInt(e.high)]));
  const records: EventRecord[] = [];
  if (pending.size === 0) return records;
  const consumer = kafka.consumer({ groupId: `read-${randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic} did not reach its end`)), 60_000);
      consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
        const end = pending.get(payload.partition);
        if (end !== undefined && BigInt(payload.lastOffset) + 1n >= end) pending.delete(payload.partition);
        if (pending.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ message, partition }) => {
            const end = pending.get(partition);
            if (end === undefined || BigInt(message.offset) >= end) return;
            const d = decodeEventRecord(message.value ?? Buffer.alloc(0));
            if (!d.ok) throw new Error(`undecodable record at ${partition}/${message.offset}: ${d.error}`);
            records.push(d.value);
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/** Ids `uid:1 … uid:count`. */
export function idsFor(uid: string, count: number, from = 1): string[] {
  return Array.from({ length: count - from + 1 }, (_, i) => `${uid}:${from + i}`);
}

/** Compares what reached the topic with what was expected: missing, duplicated and unexpected ids. */
export function diffIds(records: EventRecord[], expected: string[]): { missing: string[]; duplicated: string[]; unexpected: string[] } {
  const counts = new Map<string, number>();
  for (const r of records) counts.set(r.id, (counts.get(r.id) ?? 0) + 1);
  const want = new Set(expected);
  return {
    missing: expected.filter((id) => !counts.has(id)),
    duplicated: [...counts].filter(([, n]) => n > 1).map(([id]) => id),
    unexpected: [...counts.keys()].filter((id) => !want.has(id)),
  };
}

/** A consumer that keeps collecting records while a test runs (cheaper than re-reading). */
export async function collectRecords(kafka: Kafka, topic: string): Promise<{ records: EventRecord[]; stop: () => Promise<void> }> {
  const records: EventRecord[] = [];
  const consumer = kafka.consumer({ groupId: `collect-${randomUUID()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const d = decodeEventRecord(message.value ?? Buffer.alloc(0));
      if (d.ok) records.push(d.value);
    },
  });
  return { records, stop: () => consumer.disconnect() };
}

/** Current etcd revision, then compaction up to it: every older resourceVersion becomes 410 Gone. */
export async function compactEtcd(): Promise<number> {
  const base = testEnv().ETCD_ENDPOINTS.split(',')[0]!;
  const range = (await (await fetch(`${base}/v3/kv/range`, { method: 'POST', body: JSON.stringify({ key: Buffer.from('\0').toString('base64') }) })).json()) as { header: { revision: string } };
  const revision = Number(range.header.revision);
  const res = await fetch(`${base}/v3/kv/compaction`, { method: 'POST', body: JSON.stringify({ revision: String(revision), physical: true }) });
  if (!res.ok) throw new Error(`etcd compaction failed: ${res.status} ${await res.text()}`);
  return revision;
}
