import { describe, expect, it } from 'vitest';
import { toLineProtocol } from '@heapstream/metric-model';
import type { MetricPoint } from '@heapstream/contracts';
import { testEnv, uniqueName } from '@heapstream/testing';
import { top, topQueries, type TopOptions } from './top-command.js';

const { INFLUX_URL } = testEnv();

/** InfluxQL answers 200 even when a statement failed: check each statement's error too. */
async function q(db: string, query: string): Promise<void> {
  const res = await fetch(`${INFLUX_URL}/query`, { method: 'POST', body: new URLSearchParams({ q: query, ...(db ? { db } : {}) }) });
  const body = (await res.json()) as { error?: string; results?: { error?: string }[] };
  expect({ status: res.status, errors: [body.error, ...(body.results ?? []).map((r) => r.error)].filter(Boolean) }).toEqual({ status: 200, errors: [] });
}

async function write(db: string, rp: string, points: MetricPoint[], schema: 'heapster' | 'wide'): Promise<void> {
  const { lines, skipped } = toLineProtocol(points, { schema, precision: 'ms' });
  expect(skipped).toEqual([]);
  const res = await fetch(`${INFLUX_URL}/write?db=${db}&rp=${rp}&precision=ms`, { method: 'POST', body: lines.join('\n') });
  expect(`${res.status} ${await res.text()}`).toBe('204 ');
}

const now = Math.floor(Date.now() / 60_000) * 60_000;
const node = (name: string, metric: string, value: number, at = now - 30_000): MetricPoint => ({ metric, entityType: 'node', tags: { cluster_name: 'c', nodename: name }, timestamp: at, value });
const pod = (ns: string, name: string, metric: string, value: number): MetricPoint => ({ metric, entityType: 'pod', tags: { cluster_name: 'c', nodename: 'n1', namespace_name: ns, pod_name: name }, timestamp: now - 30_000, value });
const window = (name: string, metric: string, start: number, w: { min: number; max: number; sum: number; count: number }): MetricPoint => ({
  ...node(name, metric, w.sum / w.count, start),
  window: { start, end: start + 60_000, ...w, last: w.max },
});

describe.each(['heapster', 'wide'] as const)('heapstream top against real InfluxDB (%s layout)', (schema) => {
  const setup = async () => {
    const db = uniqueName('top').replaceAll('-', '_');
    await q('', `CREATE DATABASE "${db}" WITH DURATION 7d NAME "raw"`);
    await q('', `CREATE RETENTION POLICY "rollup_1m" ON "${db}" DURATION 30d REPLICATION 1`);
    const opts: TopOptions = { influxUrl: INFLUX_URL, database: db, schema, sort: 'cpu', rpRaw: 'raw', rp1m: 'rollup_1m' };
    return { db, opts };
  };

  it('shows the latest CPU and memory per node, sorted, like kubectl top nodes', async () => {
    const { db, opts } = await setup();
    await write(db, 'raw', [
      node('n1', 'cpu/usage_rate', 250.4, now - 90_000),
      node('n1', 'cpu/usage_rate', 500.6),
      node('n1', 'memory/working_set', 512 * 1024 * 1024),
      node('n2', 'cpu/usage_rate', 1500),
      node('n2', 'memory/working_set', 256 * 1024 * 1024),
      node('n1', 'cpu/node_allocatable', 2000),
      node('n1', 'memory/node_allocatable', 2048 * 1024 * 1024),
    ], schema);
    // CPU% and MEMORY% of allocatable, as kubectl top nodes shows them (unknown without it).
    expect(await top('nodes', opts)).toEqual([
      'NAME   CPU(cores)   CPU(%)      MEMORY(bytes)   MEMORY(%)',
      'n2     1500m        <unknown>   256Mi           <unknown>',
      'n1     501m         25%         512Mi           25%',
    ]);
    expect((await top('nodes', { ...opts, sort: 'memory' }))[1]).toMatch(/^n1 /);
    expect(JSON.parse((await top('nodes', { ...opts, output: 'json' }))[0]!)).toEqual({
      kind: 'nodes',
      items: [
        { name: 'n2', cpuMillicores: 1500, memoryBytes: 256 * 1024 * 1024, cpuPercent: null, memoryPercent: null },
        { name: 'n1', cpuMillicores: 500.6, memoryBytes: 512 * 1024 * 1024, cpuPercent: 25.03, memoryPercent: 25 },
      ],
    });
  });

  it('filters pods by namespace', async () => {
    const { db, opts } = await setup();
    await write(db, 'raw', [pod('a', 'p1', 'cpu/usage_rate', 10), pod('a', 'p1', 'memory/working_set', 1024 * 1024), pod('b', 'p2', 'cpu/usage_rate', 20), pod('b', 'p2', 'memory/working_set', 2 * 1024 * 1024)], schema);
    // Like kubectl: one namespace has no NAMESPACE column, every namespace (-A) has one.
    expect(await top('pods', { ...opts, namespace: 'a' })).toEqual(['NAME   CPU(cores)   MEMORY(bytes)', 'p1     10m          1Mi']);
    expect(await top('pods', opts)).toEqual(['NAMESPACE   NAME   CPU(cores)   MEMORY(bytes)', 'b           p2     20m          2Mi', 'a           p1     10m          1Mi']);
    expect(await top('pods', { ...opts, noHeaders: true, sort: 'memory' })).toEqual(['b   p2   20m   2Mi', 'a   p1   10m   1Mi']);
  });

  it('shows min/avg/max over a window from the 1m rollups, the average weighted by sample count', async () => {
    const { db, opts } = await setup();
    await write(db, 'rollup_1m', [
      window('n1', 'cpu/usage_rate', now - 180_000, { min: 100, max: 300, sum: 800, count: 4 }),
      window('n1', 'cpu/usage_rate', now - 120_000, { min: 50, max: 400, sum: 400, count: 2 }),
      window('n1', 'memory/working_set', now - 120_000, { min: 1024 * 1024, max: 3 * 1024 * 1024, sum: 4 * 1024 * 1024, count: 2 }),
    ], schema);
    // avg = (800 + 400) / (4 + 2) = 200, not the mean of the two window means (225).
    expect(await top('nodes', { ...opts, sinceSeconds: 3600 })).toEqual(['NAME   CPU min/avg/max   MEMORY min/avg/max', 'n1     50m/200m/400m     1Mi/2Mi/3Mi']);
  });

  it('says so when there is no data', async () => {
    const { opts } = await setup();
    expect(await top('pods', opts)).toEqual([expect.stringMatching(/^no pods with data in top_/)]);
  });

  it('names the server and the reason when InfluxDB cannot be reached', async () => {
    const { opts } = await setup();
    await expect(top('nodes', { ...opts, influxUrl: 'http://127.0.0.1:18999' })).rejects.toThrow('cannot reach InfluxDB at http://127.0.0.1:18999 (ECONNREFUSED)');
  });
});

describe('top queries', () => {
  it('quote namespaces safely', () => {
    const q = topQueries('pods', { influxUrl: '', database: 'k8s', schema: 'heapster', sort: 'cpu', rpRaw: 'raw', rp1m: 'rollup_1m', namespace: "x' OR 1=1" });
    expect(q.cpu).toContain(`"namespace_name" = 'x\\' OR 1=1'`);
  });
});
