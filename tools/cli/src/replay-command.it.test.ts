import { describe, expect, it } from 'vitest';
import { metricPointBatchCodec, TOPICS, type MetricPoint } from '@heapstream/contracts';
import { createTopics, testEnv, testKafka, uniqueName } from '@heapstream/testing';
import { parsePosition, replay } from './replay-command.js';

const env = testEnv();

async function count(db: string): Promise<{ points: number; series: number }> {
  const query = async (q: string) => {
    const res = await fetch(`${env.INFLUX_URL}/query`, { method: 'POST', body: new URLSearchParams({ db, q }) });
    return (await res.json()) as { results: { series?: { values: unknown[][] }[] }[] };
  };
  const points = await query(`SELECT count("usage_rate") FROM "raw"."cpu"`);
  const series = await query(`SHOW SERIES FROM "cpu"`);
  return { points: Number(points.results[0]?.series?.[0]?.values[0]?.[1] ?? 0), series: series.results[0]?.series?.[0]?.values.length ?? 0 };
}

describe('heapstream replay', () => {
  it('rewrites InfluxDB from a point in time, and a second replay adds nothing', async () => {
    const prefix = `${uniqueName('replay')}.`;
    const db = uniqueName('replay').replaceAll('-', '_');
    const kafka = testKafka();
    const topic = prefix + TOPICS.metrics.name;
    await createTopics(kafka, [{ topic, numPartitions: 2 }]);
    const base = Math.floor(Date.now() / 1000) * 1000 - 600_000;
    const producer = kafka.producer();
    await producer.connect();
    // Six batches, one a minute of record time; each has a point for 2 nodes.
    for (let i = 0; i < 6; i++) {
      const points: MetricPoint[] = ['n1', 'n2'].map((n) => ({ metric: 'cpu/usage_rate', entityType: 'node', tags: { cluster_name: 'c', nodename: n }, timestamp: base + i * 60_000, value: 100 * i + 0.5 }));
      await producer.send({ topic, messages: [{ key: `k${i}`, value: metricPointBatchCodec.encode({ cluster: 'c', resolution: 'native', producedAt: base + i * 60_000, points }), timestamp: String(base + i * 60_000) }] });
    }
    await producer.disconnect();

    const opts = { brokers: env.KAFKA_BROKERS, influxUrl: env.INFLUX_URL, database: db, topicPrefix: prefix, inputs: ['metrics' as const] };
    const first = await replay({ ...opts, from: { time: base + 2 * 60_000 }, to: { end: true } });
    expect(first.records).toBe(4n);
    expect(await count(db)).toEqual({ points: 8, series: 2 });

    const again = await replay({ ...opts, from: parsePosition('offset:0', '--from'), to: { end: true } });
    expect(again.records).toBe(6n);
    // Everything from the start now: 12 points, and the 8 already there were overwritten, not added.
    expect(await count(db)).toEqual({ points: 12, series: 2 });
    await replay({ ...opts, from: { time: base }, to: { end: true } });
    expect(await count(db)).toEqual({ points: 12, series: 2 });
  }, 240_000);

  it('rejects a position it cannot read', () => {
    expect(() => parsePosition('yesterday', '--from')).toThrow(/--from "yesterday" must be an ISO time/);
    expect(parsePosition('offset:42', '--from')).toEqual({ offset: 42 });
    expect(parsePosition('2026-01-01T00:00:00Z', '--to')).toEqual({ time: Date.UTC(2026, 0, 1) });
  });
});
