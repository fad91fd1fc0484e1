import { readFileSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createServer, type Server } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeletClient } from './kubelet-client.js';
import { KubeletError } from './kubelet-error.js';
import { makeKubeletPki } from './kubelet-pki.test-helper.js';

let server: Server;
let port: number;

const { f } = makeKubeletPki();

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

beforeAll(async () => {
  server = createServer({ key: readFileSync(f('kubelet.key')), cert: readFileSync(f('kubelet.crt')) }, (req, res) => {
    if (req.headers.authorization !== 'Bearer good-token') return res.writeHead(401).end('Unauthorized');
    if (req.url === '/slow') return setTimeout(() => res.end('{}'), 2_000);
    if (req.url === '/stats/forbidden') return res.writeHead(403).end('Forbidden (user=system:serviceaccount:heapstream:scraper, verb=get, resource=nodes, subresource=stats)');
    if (req.url === '/big') return res.end('x'.repeat(10_000));
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"node":{"nodeName":"n1"},"pods":[]}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
});

afterAll(() => server.close());

const client = (over: Partial<{ tokenFile: string; caFile: string; insecure: boolean; maxBodyBytes: number }> = {}) =>
  new KubeletClient(
    { mode: 'token', tokenFile: over.tokenFile ?? f('token'), caFile: over.caFile ?? f('ca.crt'), insecureSkipVerify: over.insecure ?? false },
    { maxBodyBytes: over.maxBodyBytes ?? 1_000_000, maxSockets: 4 },
  );

async function failure(p: Promise<unknown>): Promise<KubeletError> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(KubeletError);
  return err as KubeletError;
}

describe('KubeletClient', () => {
  it('fetches over verified TLS with the bearer token', async () => {
    const c = client();
    const res = await c.get({ node: 'n1', host: '127.0.0.1', port }, '/stats/summary', 2_000);
    expect(JSON.parse(res.body.toString())).toEqual({ node: { nodeName: 'n1' }, pods: [] });
    expect(res.finishedAt).toBeGreaterThanOrEqual(res.startedAt);
    c.close();
  });

  it('says 401 and what to check when the token is wrong', async () => {
    writeFileSync(f('bad-token'), 'nope');
    const err = await failure(client({ tokenFile: f('bad-token') }).get({ node: 'n1', host: '127.0.0.1', port }, '/stats/summary', 2_000));
    expect(err.failure).toBe('unauthorized');
    expect(err.message).toMatch(/^kubelet n1: 401 Unauthorized: .*KUBELET_TOKEN_FILE/);
    expect(err.message).not.toContain('nope');
  });

  it('names the missing RBAC resource on 403', async () => {
    const err = await failure(client().get({ node: 'n1', host: '127.0.0.1', port }, '/stats/forbidden', 2_000));
    expect(err.message).toContain('resources ["nodes/stats"], verbs ["get"]');
  });

  it('names the address a certificate lacks', async () => {
    const err = await failure(client().get({ node: 'n1', host: 'localhost', port }, '/stats/summary', 2_000));
    expect(err.failure).toBe('tls');
    expect(err.message).toMatch(/certificate is not valid for localhost/);
  });

  it('says the certificate is not signed by the configured CA', async () => {
    const err = await failure(client({ caFile: f('other.crt') }).get({ node: 'n1', host: '127.0.0.1', port }, '/stats/summary', 2_000));
    expect(err.failure).toBe('tls');
    expect(err.message).toMatch(/not signed by a CA in KUBELET_CA_FILE/);
  });

  it('skips verification only when told to', async () => {
    const res = await client({ caFile: f('other.crt'), insecure: true }).get({ node: 'n1', host: 'localhost', port }, '/stats/summary', 2_000);
    expect(res.body.length).toBeGreaterThan(0);
  });

  it('keeps no body alive through an idle kept-alive connection', async () => {
    const c = client();
    // In a function of its own, so that nothing on this stack still refers to the body.
    const fetchBody = async () => new WeakRef((await c.get({ node: 'n1', host: '127.0.0.1', port }, '/stats/summary', 2_000)).body);
    const body = await fetchBody();
    await new Promise((r) => setImmediate(r)); // a WeakRef target lives at least until the job ends
    collectGarbage();
    expect(body.deref()).toBeUndefined();
    c.close();
  });

  it('gives up at the deadline, on a refused connection and on an oversized body', async () => {
    const c = client({ maxBodyBytes: 1_000 });
    expect((await failure(c.get({ node: 'n1', host: '127.0.0.1', port }, '/slow', 200))).failure).toBe('timeout');
    expect((await failure(c.get({ node: 'n2', host: '127.0.0.1', port: 1 }, '/stats/summary', 2_000))).failure).toBe('refused');
    expect((await failure(c.get({ node: 'n1', host: '127.0.0.1', port }, '/big', 2_000))).failure).toBe('too-large');
  });
});
