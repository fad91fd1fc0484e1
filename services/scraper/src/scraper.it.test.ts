import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Consumer } from 'kafkajs';
import { rawScrapeCodec, TOPICS, type RawScrape } from '@heapstream/contracts';
import { createTopics, ProcessGroup, startSimulator, testEnv, testKafka, uniqueName, waitFor, type Simulator } from '@heapstream/testing';

const INTERVAL_MS = 2_000;
const env = testEnv();
const kafka = testKafka();
const run = uniqueName('scr');
const logDir = mkdtempSync(join(tmpdir(), 'scraper-it-'));
const group = new ProcessGroup(logDir);
let sim: Simulator;
let ours: string[];
let nextPort = 18_300 + Math.floor(Math.random() * 500);

/** Collects the raw records of one topic prefix as they arrive. */
async function collect(prefix: string): Promise<{ records: RawScrape[]; stop: () => Promise<void> }> {
  const records: RawScrape[] = [];
  const consumer: Consumer = kafka.consumer({ groupId: uniqueName('collect') });
  await consumer.connect();
  await consumer.subscribe({ topic: prefix + TOPICS.metricsRaw.name, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const decoded = rawScrapeCodec.decode(message.value);
      if (decoded.ok) records.push(decoded.value);
    },
  });
  return { records, stop: () => consumer.disconnect() };
}

function startScraper(name: string, prefix: string, extra: Record<string, string> = {}): string {
  group.start({
    name,
    entry: 'services/scraper/src/main.ts',
    port: nextPort++,
    env: {
      KAFKA_BROKERS: env.KAFKA_BROKERS,
      KUBECONFIG: env.KUBECONFIG,
      HEAPSTREAM_TOPIC_PREFIX: prefix,
      HEAPSTREAM_CLUSTER_NAME: run,
      KUBELET_CA_FILE: sim.caFile,
      KUBELET_TOKEN_FILE: sim.tokenFile,
      SCRAPER_INTERVAL: `${INTERVAL_MS}ms`,
      SCRAPER_TIMEOUT: '1500ms',
      SCRAPER_JITTER: '200ms',
      SCRAPER_SHARDS: '16',
      LOG_LEVEL: 'info',
      ...extra,
    },
  });
  return name;
}

const roundOf = (r: RawScrape) => Math.floor(r.scrape.startedAt / INTERVAL_MS) * INTERVAL_MS;

/** node -> count, per round, for this run's nodes only. */
function byRound(records: RawScrape[]): Map<number, Map<string, number>> {
  const rounds = new Map<number, Map<string, number>>();
  for (const r of records) {
    if (!ours.includes(r.node)) continue;
    const m = rounds.get(roundOf(r)) ?? new Map<string, number>();
    m.set(r.node, (m.get(r.node) ?? 0) + 1);
    rounds.set(roundOf(r), m);
  }
  return rounds;
}

/** Rounds (after `since`, excluding the still-open one) in which each expected node appears exactly once. */
function exactRounds(records: RawScrape[], expected: string[], since: number): number[] {
  const open = Math.floor(Date.now() / INTERVAL_MS) * INTERVAL_MS - INTERVAL_MS;
  return [...byRound(records).entries()]
    .filter(([round, nodes]) => round > since && round < open && expected.every((n) => nodes.get(n) === 1) && [...nodes.values()].every((c) => c === 1))
    .map(([round]) => round)
    .sort();
}

beforeAll(async () => {
  sim = await startSimulator({
    kubeconfig: env.KUBECONFIG,
    // Enough nodes that each of two replicas owns some: with 16 shards split 8/8, all of
    // n nodes fall in one replica's half with probability 2^(1-n) (5 nodes: 1 run in 16,
    // and the two-replica test then waited for a replica that had nothing to scrape).
    nodes: 12,
    podsPerNode: 3,
    namePrefix: run,
    addressOctet: 150 + Math.floor(Math.random() * 90),
    kubeletPort: 0,
    interval: '1s',
    tokens: [`token-${run}`],
    outDir: mkdtempSync(join(tmpdir(), 'scraper-sim-')),
  });
  await sim.registered();
  ours = sim.nodes().map((n) => n.name);
}, 120_000);

afterAll(async () => {
  await group.stopAll();
  await sim?.stop({ cleanup: true });
});

describe('scraper against simulated kubelets, the real API server and Kafka', () => {
  it('scrapes every node each interval; a hung node and a refusing node delay nobody and are reported by cause', async () => {
    const prefix = `${run}-a.`;
    await createTopics(kafka, [{ topic: prefix + TOPICS.metricsRaw.name, numPartitions: 3 }]);
    const [hung, refusing, ...healthy] = ours as [string, string, ...string[]];
    await sim.stopNode(hung, 'hang');
    await sim.stopNode(refusing, 'refuse');
    const sink = await collect(prefix);
    const name = startScraper('scraper-a', prefix, { SCRAPER_WORKERS: '2' }); // scrapes in worker threads, whatever this machine's CPUs
    const started = Date.now();
    // The other tests need every node answering again, whatever happens here.
    try {
      await waitFor('three complete rounds of the healthy nodes', async () => exactRounds(sink.records, healthy, started).length >= 3, { timeoutMs: 60_000, alive: () => group.isAlive(name) });

      const mine = sink.records.filter((r) => ours.includes(r.node));
      expect(mine.some((r) => r.node === hung || r.node === refusing)).toBe(false);
      // Published as soon as each node answered: well before the hung node's 1.5 s deadline.
      for (const r of mine) expect(r.scrape.finishedAt - roundOf(r)).toBeLessThan(1_200);
      const sample = mine.find((r) => r.node === healthy[0])!;
      expect(sample.cluster).toBe(run);
      expect(sample.pods.length).toBeGreaterThan(0);
      expect(sample.nodeStats.cpu?.usageCoreNanoSeconds).toBeGreaterThan(0);

      const metrics = await (await fetch(`${group.url(name)}/metrics`)).text();
      expect(metrics).toMatch(/heapstream_scraper_scrapes_total\{result="timeout",service="scraper"\} [1-9]/);
      expect(metrics).toMatch(/heapstream_scraper_scrapes_total\{result="refused",service="scraper"\} [1-9]/);
      expect(metrics).toMatch(new RegExp(`heapstream_scraper_last_success_age_seconds\\{node="${healthy[0]}",service="scraper"\\} 0?\\.?\\d`));
      // Ready needs a Kafka acknowledgement within 3 intervals (3 s here): on a loaded machine, give it a few tries.
      let readiness = '';
      await waitFor('ready', async () => {
        const res = await fetch(`${group.url(name)}/readyz`);
        readiness = `${res.status} ${await res.text()}`;
        return res.status === 200;
      }, { timeoutMs: 15_000 }).catch(() => undefined);
      expect(readiness).toMatch(/^200 /);
      const log = readFileSync(join(logDir, 'scraper-a.log'), 'utf8');
      expect(log).toContain(`kubelet ${refusing}: connection refused`);
      expect(log).toContain(`kubelet ${hung}: no complete answer`);
      // Logged once per node and cause, not once per round.
      expect(log.split(`kubelet ${refusing}: connection refused`).length - 1).toBe(1);
    } finally {
      await group.stop(name);
      await sink.stop();
      await sim.restoreNode(hung);
      await sim.restoreNode(refusing);
    }
  });

  it('says 401 with what to check when the token is wrong, and is not ready', async () => {
    const prefix = `${run}-b.`;
    await createTopics(kafka, [{ topic: prefix + TOPICS.metricsRaw.name }]);
    const badToken = join(logDir, 'bad-token');
    writeFileSync(badToken, 'not-the-token\n');
    const name = startScraper('scraper-b', prefix, { KUBELET_TOKEN_FILE: badToken, SCRAPER_SHARDING: 'static' });
    await waitFor('a 401 in the log', async () => readFileSync(join(logDir, 'scraper-b.log'), 'utf8').includes(`kubelet ${ours[0]}: 401 Unauthorized`), { timeoutMs: 30_000, alive: () => group.isAlive(name) });
    const log = readFileSync(join(logDir, 'scraper-b.log'), 'utf8');
    expect(log).toMatch(/401 Unauthorized: the kubelet rejected the credentials \(check KUBELET_TOKEN_FILE/);
    expect(log).not.toContain('not-the-token');
    const ready = await fetch(`${group.url(name)}/readyz`);
    expect(ready.status).toBe(503);
    await group.stop(name);
  });

  it('splits the nodes between two replicas, none scraped twice or missed, also after one replica stops', async () => {
    const prefix = `${run}-c.`;
    await createTopics(kafka, [{ topic: prefix + TOPICS.metricsRaw.name, numPartitions: 3 }]);
    const sink = await collect(prefix);
    const a = startScraper('scraper-c1', prefix);
    const b = startScraper('scraper-c2', prefix);
    await group.waitReady(a, 60_000);
    await group.waitReady(b, 60_000);
    const okCount = async (n: string) => Number(/heapstream_scraper_scrapes_total\{result="ok",service="scraper"\} (\d+)/.exec(await (await fetch(`${group.url(n)}/metrics`)).text())?.[1] ?? 0);
    // Ready is not yet sharing: the second member's join rebalances the shards a moment later.
    await waitFor('both replicas scraping', async () => (await okCount(a)) > 0 && (await okCount(b)) > 0, { timeoutMs: 60_000 });
    const bothScraping = Date.now();
    await waitFor('three exact rounds with two replicas', async () => exactRounds(sink.records, ours, bothScraping).length >= 3, { timeoutMs: 60_000 });
    const [okA, okB] = [await okCount(a), await okCount(b)];
    await waitFor('both still scraping', async () => (await okCount(a)) > okA && (await okCount(b)) > okB, { timeoutMs: 30_000 });

    await group.stop(b);
    const afterStop = Date.now() + INTERVAL_MS;
    await waitFor('three exact rounds after one replica stopped', async () => exactRounds(sink.records, ours, afterStop).length >= 3, { timeoutMs: 60_000, alive: () => group.isAlive(a) });
    await sink.stop();
  });
});
