import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { TOPICS } from '@heapstream/contracts';
import { createTopics, testKafka, waitFor } from '@heapstream/testing';
import { diff, dropDatabase, expectedMetricPoints, influxQl, produceBatches, readInfluxQl, recentTimes, simulatedBatches, writerSetup } from './testing/it-support.js';

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

function spawnWriter(env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/storage-writer/src/main.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.push(child);
  return child;
}

async function countPoints(db: string): Promise<number> {
  const rows = await influxQl('SELECT count(value) FROM "raw"."cpu/usage_rate"', db).catch(() => []);
  return Number(rows[0]?.values?.[0]?.[1] ?? 0);
}

describe('storage-writer killed mid-batch', () => {
  it('after SIGKILL and a restart every point is present exactly once', async () => {
    const kafka = testKafka('storage-writer-kill');
    // Small write requests so that a kill lands between the writes of one Kafka batch.
    const setup = writerSetup({ INFLUX_BATCH_LINES: '40', HEAPSTREAM_TOPIC_PARTITIONS: '2', HEAPSTREAM_STORAGE_SCHEMA: 'heapster' });
    const topic = setup.prefix + TOPICS.metrics.name;
    await createTopics(kafka, [TOPICS.metrics, TOPICS.rollup1m, TOPICS.rollup1h, TOPICS.events, TOPICS.deadLetter].map((t) => ({ topic: setup.prefix + t.name, numPartitions: 2 })));
    const batches = simulatedBatches({ cluster: 'test-cluster', nodes: 40, podsPerNode: 4, times: recentTimes(6) });
    const expected = expectedMetricPoints(batches, 'heapster');
    const ratePoints = batches.reduce((n, b) => n + b.points.filter((p) => p.metric === 'cpu/usage_rate').length, 0);
    await produceBatches(kafka, topic, batches);

    const first = spawnWriter(setup.env);
    await waitFor('some points written', async () => (await countPoints(setup.db)) > 0, { timeoutMs: 60_000, intervalMs: 50 });
    first.kill('SIGKILL');
    await once(first, 'exit');
    const atKill = await countPoints(setup.db);
    expect(atKill).toBeLessThan(ratePoints);

    const second = spawnWriter(setup.env);
    let stored = new Map();
    await waitFor('all points', async () => (stored = await readInfluxQl(setup.db, 'raw')).size >= expected.size, { timeoutMs: 90_000, intervalMs: 500 });
    expect(diff(expected, stored)).toEqual({ missing: [], wrong: [], extra: [] });
    second.kill('SIGTERM');
    const [code] = await once(second, 'exit');
    expect(code).toBe(0);
    await dropDatabase(setup.db);
  }, 180_000);
});
