import { afterAll, describe, expect, it } from 'vitest';
import { TOPICS } from '@heapstream/contracts';
import { restartServer, stopServer } from '@heapstream/testing';
import { testKafka, waitFor } from '@heapstream/testing';
import { diff, dropDatabase, expectedMetricPoints, produceBatches, readInfluxQl, recentTimes, simulatedBatches, startWriter, writerSetup, type Batch } from './testing/it-support.js';

/*
 * The one test that stops the shared InfluxDB (for about 20 s): other engineers'
 * tests use the same server, so keep the outage short and do it nowhere else.
 */
describe('storage-writer while InfluxDB is down', () => {
  const kafka = testKafka('storage-writer-outage');
  let influxStopped = false;
  afterAll(async () => {
    if (influxStopped) await restartServer('influxdb');
  });

  it('pauses while InfluxDB is stopped, reports not ready, and afterwards every point is present exactly once', async () => {
    const setup = writerSetup({ HEAPSTREAM_TOPIC_PARTITIONS: '2', INFLUX_TIMEOUT_MS: '2000' });
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

      influxStopped = true;
      await stopServer('influxdb');
      const stoppedAt = Date.now();
      const seen = { influxdb: false, lag: false };
      await waitFor('not ready while InfluxDB is down', async () => {
        const r = await readiness();
        if (r.checks.influxdb?.ok === false) seen.influxdb = true;
        if (r.checks['consumer-lag']?.ok === false) seen.lag = true;
        return seen.influxdb && seen.lag && Date.now() - stoppedAt >= 12_000;
      }, { timeoutMs: 40_000, intervalMs: 500 });
      const downMs = Date.now() - stoppedAt;
      await restartServer('influxdb');
      influxStopped = false;
      // Stopped for ~12-20 s plus the restart itself: 20-30 s without InfluxDB in all.
      expect(downMs).toBeLessThan(25_000);
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
