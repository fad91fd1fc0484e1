import { createServer, type Server } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KubeHttp } from './http.js';

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

let server: Server;
let kc: KubeConfig;

beforeAll(async () => {
  // An API server stand-in: a LIST answer, and a 404 with a Status body.
  server = createServer((req, res) => {
    if (req.url?.startsWith('/api/v1/missing')) return res.writeHead(404, { 'content-type': 'application/json' }).end('{"kind":"Status","reason":"NotFound","message":"not here","code":404}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'EventList', items: Array.from({ length: 200 }, (_, i) => ({ metadata: { name: `e${i}` } })) }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as { port: number }).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
});

afterAll(() => server.close());

describe('KubeHttp.request', () => {
  it('answers JSON, and rejects a non-2xx answer with its status', async () => {
    const http = await KubeHttp.create(kc);
    expect(((await http.request('GET', '/api/v1/events')) as { items: unknown[] }).items).toHaveLength(200);
    await expect(http.request('GET', '/api/v1/missing')).rejects.toThrow(/not here/);
    http.close();
  });

  it('keeps no answer alive through an idle kept-alive connection', async () => {
    const http = await KubeHttp.create(kc);
    // In a function of its own, so that nothing on this stack still refers to the answer.
    const list = async () => new WeakRef((await http.request('GET', '/api/v1/events')) as object);
    const answer = await list();
    await new Promise((r) => setImmediate(r)); // a WeakRef target lives at least until the job ends
    collectGarbage();
    expect(answer.deref()).toBeUndefined();
    http.close();
  });
});
