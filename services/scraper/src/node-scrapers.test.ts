import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawScrapeCodec, type RawScrape } from '@heapstream/contracts';
import { ParseError } from '@heapstream/metric-model';
import { KubeletError } from './kubelet/kubelet-error.js';
import { makeKubeletPki } from './kubelet/kubelet-pki.test-helper.js';
import { createNodeScraper, type NodeScraper, type NodeScraperOptions } from './node-scrapers.js';

const fixture = readFileSync(fileURLToPath(new URL('../../../libs/metric-model/testdata/otel-stats-summary.json', import.meta.url)));
const { f } = makeKubeletPki();
const silent = { error: () => undefined, info: () => undefined };

/** A kubelet on 127.0.0.1 that serves `body` to the right token. */
async function kubelet(body: Buffer | string): Promise<{ server: Server; port: number }> {
  const server = createServer({ key: readFileSync(f('kubelet.key')), cert: readFileSync(f('kubelet.crt')) }, (req, res) => {
    if (req.headers.authorization !== 'Bearer good-token') return res.writeHead(401).end('Unauthorized');
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

const options = (workers: number, over: Partial<NodeScraperOptions> = {}): NodeScraperOptions => ({
  access: { mode: 'token', tokenFile: f('token'), caFile: f('ca.crt'), insecureSkipVerify: false },
  client: { maxBodyBytes: 1 << 20, maxSockets: 4 },
  cluster: 'test',
  workers,
  logger: silent,
  ...over,
});

/** The record without the scraper's own clock readings, which differ between two scrapes. */
const withoutTimes = (value: Buffer): Omit<RawScrape, 'scrape'> => {
  const decoded = rawScrapeCodec.decode(value);
  if (!decoded.ok) throw decoded.error;
  const { scrape: _times, ...rest } = decoded.value;
  return rest;
};

async function rejection(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e as Error,
  );
}

let good: { server: Server; port: number };
let garbage: { server: Server; port: number };
const scrapers: NodeScraper[] = [];
const open = async (o: NodeScraperOptions): Promise<NodeScraper> => {
  const s = createNodeScraper(o);
  scrapers.push(s);
  await s.ready();
  return s;
};

beforeAll(async () => {
  good = await kubelet(fixture);
  garbage = await kubelet('<html>not a summary</html>');
});

afterAll(async () => {
  await Promise.all(scrapers.map((s) => s.close()));
  good.server.close();
  garbage.server.close();
});

describe('node scrapers', () => {
  it('give the same record from worker threads as on the calling thread', async () => {
    const inThread = await open(options(0));
    const pool = await open(options(2));
    const targets = ['n1', 'n2', 'n3', 'n4'].map((node) => ({ node, host: '127.0.0.1', port: good.port }));
    for (const t of targets) {
      const [a, b] = await Promise.all([inThread.scrape(t, 5_000), pool.scrape(t, 5_000)]);
      expect(b.node).toBe(t.node);
      expect(b.bodyBytes).toBe(fixture.length);
      expect(b.issueCount).toBe(a.issueCount);
      expect(withoutTimes(b.value)).toEqual(withoutTimes(a.value));
      expect(withoutTimes(b.value).node).toBe(t.node);
    }
  });

  it('hand errors back across the thread as the same classes and messages', async () => {
    writeFileSync(f('bad-token'), 'nope\n');
    const badToken = { mode: 'token', tokenFile: f('bad-token'), caFile: f('ca.crt'), insecureSkipVerify: false } as const;
    const inThread = await open(options(0, { access: badToken }));
    const pool = await open(options(1, { access: badToken }));
    const target = { node: 'n1', host: '127.0.0.1', port: good.port };
    const [a, b] = await Promise.all([rejection(inThread.scrape(target, 5_000)), rejection(pool.scrape(target, 5_000))]);
    expect(b).toBeInstanceOf(KubeletError);
    expect((b as KubeletError).failure).toBe('unauthorized');
    expect((b as KubeletError).status).toBe(401);
    expect(b.message).toBe(a.message);

    const healthy = await open(options(1));
    const notSummary = await rejection(healthy.scrape({ node: 'n1', host: '127.0.0.1', port: garbage.port }, 5_000));
    expect(notSummary).toBeInstanceOf(ParseError);
    expect(notSummary.message).toMatch(/^not JSON: starts with "<html>/);
  });

  it('fail to start, naming the file, when the CA cannot be read', async () => {
    const s = createNodeScraper(options(1, { access: { mode: 'token', tokenFile: f('token'), caFile: f('missing.crt'), insecureSkipVerify: false } }));
    scrapers.push(s);
    await expect(s.ready()).rejects.toThrow(/cannot read .*missing\.crt/);
  });
});
