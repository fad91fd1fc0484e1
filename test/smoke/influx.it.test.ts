import { describe, expect, it } from 'vitest';
import { InfluxDB, Point } from '@influxdata/influxdb-client';
import { testEnv, uniqueName } from '@heapstream/testing';

async function influxql(url: string, q: string, db?: string): Promise<{ results: { series?: { values: unknown[][]; columns: string[] }[]; error?: string }[] }> {
  const params = new URLSearchParams({ q, ...(db ? { db } : {}), epoch: 'ms' });
  const res = await fetch(`${url}/query`, { method: 'POST', body: params });
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return (await res.json()) as never;
}

describe('real InfluxDB 1.8 with @influxdata/influxdb-client', () => {
  const { INFLUX_URL } = testEnv();

  it('writes to db/rp through the v2 API and reads back by Flux and by InfluxQL', async () => {
    const db = uniqueName('smoke').replaceAll('-', '_');
    await influxql(INFLUX_URL, `CREATE DATABASE "${db}" WITH DURATION 1d NAME "raw"`);
    const client = new InfluxDB({ url: INFLUX_URL, token: 'heapstream:unused' });
    const writer = client.getWriteApi('', `${db}/raw`, 'ms', { maxRetries: 0 });
    const ts = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
    writer.writePoint(new Point('cpu/usage_rate').tag('nodename', 'node-1').intField('value', 1500).timestamp(ts));
    writer.writePoint(new Point('cpu/usage_rate').tag('nodename', 'node-2').intField('value', 250).timestamp(ts));
    await writer.close();

    const rows = await client
      .getQueryApi('')
      .collectRows<{ nodename: string; _value: number }>(
        `from(bucket: "${db}/raw") |> range(start: -1d) |> filter(fn: (r) => r._measurement == "cpu/usage_rate")`,
      );
    expect(rows.map((r) => [r.nodename, r._value]).sort()).toEqual([['node-1', 1500], ['node-2', 250]]);

    const q = await influxql(INFLUX_URL, `SELECT sum("value") FROM "raw"."cpu/usage_rate"`, db);
    expect(q.results[0]?.series?.[0]?.values[0]).toEqual([0, 1750]);
  });

  it('refuses a write to a database that does not exist (so writers must create it first)', async () => {
    const client = new InfluxDB({ url: INFLUX_URL, token: 'heapstream:unused' });
    const writer = client.getWriteApi('', `${uniqueName('missing').replaceAll('-', '_')}/raw`, 'ms', { maxRetries: 0 });
    writer.writePoint(new Point('m').intField('value', 1));
    await expect(writer.close()).rejects.toThrow(/database not found|404/);
  });
});
