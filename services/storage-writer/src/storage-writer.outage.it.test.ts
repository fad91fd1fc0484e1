import { afterAll, describe, expect, it } from 'vitest';
import { TOPICS } from '@heapstream/contracts';
import { restartServer, startPrivateInflux, stopServer, testKafka, waitFor } from '@heapstream/testing';
import { diff, dropDatabase, expectedMetricPoints, produceBatches, readInfluxQl, recentTimes, simulatedBatches, startWriter, writerSetup, type Batch } from './testing/it-support.js';

/*
 * InfluxDB stopped for 60 s while records keep arriving. The test runs its own InfluxDB
 * (this file's INFLUX_URL points at it), so the outage disturbs no other test.
 */
const influx = await startPrivateInflux('outage', 18_096);
process.env.INFLUX_URL = influx.url;
const OUTAGE_MS = 60_000;

describe('storage-writer while InfluxDB is down', () => {
  const kafka = testKafka('storage-writer-outage');
  afterAll(async () => {
    await stopServer(influx.name);
  });

  it('pauses while InfluxDB is stopped, reports not ready, and afterwards every point is present exactly once', async () => {
    const setup = writerSetup({ HEAPSTREAM_TOPIC_PARTITIONS: '2', INFLUX_TIMEOUT_MS: '2000', HEAPSTREAM_STORAGE_SCHEMA: 'heapster' });
    const service = await startWriter(setup.env);
    const topic = setup.prefix + TOPICS.metrics.name;
    const sent: Batch[] = [];
    const base = recentTimes(1)[0]!;
    let tick = 0;
    let producing = true;
    const producer = (async () => {
      while (producing) {
        const batches = simulatedBatches({ cluster: 'test-cluster', nodes: 2, podsPerNode: 2, times: [base + tick++ * 1000] });
        await produceBatches(kafka, topic, batches);
        sent.push(...batches);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const readiness = async () => (await fetch(`${service.url}/readyz`)).json() as Promise<{ ok: boolean; checks: Record<string, { ok: boolean }> }>;
    try {
      await waitFor('first points', async () => (await readInfluxQl(setup.db, 'raw', 'memory/usage')).size > 0, { timeoutMs: 30_000 });
      await waitFor('ready', async () => (await readiness()).ok, { timeoutMs: 30_000 });

      await stopServer(influx.name);
      const stoppedAt = Date.now();
      const seen = { influxdb: false, lag: false };
      await waitFor('not ready while InfluxDB is down', async () => {
        const r = await readiness();
        if (r.checks.influxdb?.ok === false) seen.influxdb = true;
        if (r.checks['consumer-lag']?.ok === false) seen.lag = true;
        return seen.influxdb && seen.lag && Date.now() - stoppedAt >= OUTAGE_MS;
      }, { timeoutMs: OUTAGE_MS + 30_000, intervalMs: 500 });
      const downMs = Date.now() - stoppedAt;
      await restartServer(influx.name);
      expect(downMs).toBeGreaterThanOrEqual(OUTAGE_MS);
      producing = false;
      await producer;
      const expected = expectedMetricPoints(sent, 'heapster');
      let stored = new Map();
      await waitFor('caught up', async () => (stored = await readInfluxQl(setup.db, 'raw')).size >= expected.size, { timeoutMs: 90_000, intervalMs: 500 });
      expect(diff(expected, stored)).toEqual({ missing: [], wrong: [], extra: [] });
      await waitFor('ready again', async () => (await readiness()).ok, { timeoutMs: 30_000, intervalMs: 500 });
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toMatch(/heapstream_influx_write_retries_total\{kind="retryable"/);
    } finally {
      producing = false;
      await producer.catch(() => undefined);
      await service.shutdown();
      await dropDatabase(setup.db);
    }
  }, 180_000);
});
