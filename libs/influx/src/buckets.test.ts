import { createServer, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureBuckets } from './buckets.js';
import { influxConfigSchema, tierTargets } from './config.js';
import { endpointOf } from './endpoint.js';

/** The few /api/v2 endpoints of InfluxDB 2.x that bucket setup uses. */
function fakeInflux2(buckets: { id: string; name: string; retentionRules: { type: string; everySeconds: number }[] }[]) {
  const calls: string[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url!, 'http://x');
      calls.push(`${req.method} ${url.pathname}`);
      res.setHeader('content-type', 'application/json');
      if (req.headers.authorization !== 'Token secret') return res.writeHead(401).end('{}');
      if (url.pathname === '/api/v2/orgs') return res.end(JSON.stringify({ orgs: url.searchParams.get('org') === 'acme' ? [{ id: 'o1' }] : [] }));
      if (url.pathname === '/api/v2/buckets' && req.method === 'GET') return res.end(JSON.stringify({ buckets: buckets.filter((b) => b.name === url.searchParams.get('name')) }));
      if (url.pathname === '/api/v2/buckets' && req.method === 'POST') {
        const b = JSON.parse(body);
        buckets.push({ id: `b${buckets.length}`, name: b.name, retentionRules: b.retentionRules });
        return res.writeHead(201).end('{}');
      }
      const m = /^\/api\/v2\/buckets\/(\w+)$/.exec(url.pathname);
      if (m && req.method === 'PATCH') {
        buckets.find((b) => b.id === m[1])!.retentionRules = JSON.parse(body).retentionRules;
        return res.end('{}');
      }
      res.writeHead(404).end('{}');
    });
  });
  return { server, calls, buckets };
}

describe('ensureBuckets (InfluxDB 2.x)', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('creates missing tier buckets and corrects the retention of existing ones', async () => {
    const fake = fakeInflux2([{ id: 'b0', name: 'k8s', retentionRules: [{ type: 'expire', everySeconds: 3600 }] }]);
    server = fake.server;
    await new Promise<void>((r) => fake.server.listen(0, '127.0.0.1', r));
    const { port } = fake.server.address() as { port: number };
    const config = influxConfigSchema.parse({ INFLUX_URL: `http://127.0.0.1:${port}`, INFLUX_TOKEN: 'secret', INFLUX_ORG: 'acme', INFLUX_BUCKET: 'k8s', INFLUX_RETENTION_1H: 'INF' });
    const changes = await ensureBuckets(endpointOf(config), Object.values(tierTargets(config)));
    expect(changes.map((c) => [c.bucket, c.action, c.everySeconds])).toEqual([
      ['k8s', 'altered', 7 * 86_400],
      ['k8s_1m', 'created', 30 * 86_400],
      ['k8s_1h', 'created', 0],
    ]);
    expect(fake.buckets.map((b) => [b.name, b.retentionRules])).toEqual([
      ['k8s', [{ type: 'expire', everySeconds: 604_800 }]],
      ['k8s_1m', [{ type: 'expire', everySeconds: 2_592_000 }]],
      ['k8s_1h', []],
    ]);
    const again = await ensureBuckets(endpointOf(config), Object.values(tierTargets(config)));
    expect(again.every((c) => c.action === 'unchanged')).toBe(true);
  });
});
