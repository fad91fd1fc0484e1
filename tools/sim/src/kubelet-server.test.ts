import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Simulator } from './simulator.js';
import { getKubelet } from './test-client.js';

const octet = 200 + Math.floor(Math.random() * 50);

describe('simulated kubelets (no API server)', () => {
  let sim: Simulator;
  let ca: string;
  beforeAll(async () => {
    sim = await Simulator.start({
      register: false,
      nodes: 4,
      podsPerNode: 5,
      namePrefix: `ku${octet}`,
      addressOctet: octet,
      kubeletPort: 0,
      controlPort: 0,
      tokens: ['test-token-123456'],
      outDir: mkdtempSync(join(tmpdir(), 'sim-')),
    });
    ca = readFileSync(sim.caFile, 'utf8');
  });
  afterAll(() => sim?.stop());

  it('serve HTTPS with a CA-signed certificate carrying the node IP', async () => {
    const node = sim.nodes()[2]!;
    // Node's https client checks the certificate chain and the IP SAN against the URL.
    const reply = await getKubelet(`${node.url}/healthz`, { ca, token: 'test-token-123456' });
    expect(reply).toEqual({ status: 200, body: 'ok' });
    expect(new X509Certificate(ca).ca).toBe(true);
  });

  it('refuse requests without a valid bearer token', async () => {
    const node = sim.nodes()[0]!;
    expect((await getKubelet(`${node.url}/stats/summary`, { ca })).status).toBe(401);
    expect((await getKubelet(`${node.url}/stats/summary`, { ca, token: 'wrong-token-000000' })).status).toBe(401);
    expect((await getKubelet(`${node.url}/pods`, { ca })).status).toBe(401);
  });

  it('serve summary, resource metrics and pods that agree with the ground truth', async () => {
    const node = sim.nodes()[1]!;
    const reply = await getKubelet(`${node.url}/stats/summary`, { ca, token: sim.token });
    expect(reply.status).toBe(200);
    const served = JSON.parse(reply.body);
    expect(served.node.nodeName).toBe(node.name);
    const last = sim.served(node.name).at(-1)!;
    expect(last.outcome).toBe('ok');
    expect(sim.summaryAt(node.name, last.sampleMs!).summary).toEqual(served);

    const metrics = await getKubelet(`${node.url}/metrics/resource`, { ca, token: sim.token });
    expect(metrics.body).toMatch(/^# HELP container_cpu_usage_seconds_total/m);
    // The metrics request may fall into the next sample: compare with that sample's truth.
    const metricsSample = sim.served(node.name).at(-1)!.sampleMs!;
    const truth = sim.summaryAt(node.name, metricsSample).summary;
    expect(metrics.body).toContain(`node_cpu_usage_seconds_total ${truth.node.cpu!.usageCoreNanoSeconds! / 1e9}`);

    const pods = JSON.parse((await getKubelet(`${node.url}/pods`, { ca, token: sim.token })).body);
    expect(pods.kind).toBe('PodList');
    expect(pods.items.map((p: { metadata: { uid: string } }) => p.metadata.uid).sort()).toEqual(
      served.pods.map((p: { podRef: { uid: string } }) => p.podRef.uid).sort(),
    );
    expect(pods.items[0].status.containerStatuses[0].restartCount).toBe(0);
  });

  it('expose the truth on the control port', async () => {
    const node = sim.nodes()[3]!;
    await getKubelet(`${node.url}/stats/summary`, { ca, token: sim.token });
    const res = await fetch(`${sim.controlUrl}/truth?node=${node.name}`);
    const body = (await res.json()) as { node: string; summary: { node: { nodeName: string } } };
    expect(body.summary.node.nodeName).toBe(node.name);
    const served = (await (await fetch(`${sim.controlUrl}/truth/served?node=${node.name}`)).json()) as { records: unknown[] };
    expect(served.records.length).toBeGreaterThan(0);
  });

  it('stop answering a node and bring it back', async () => {
    const node = sim.nodes()[0]!;
    await sim.stopNode(node.name, 'refuse');
    await expect(getKubelet(`${node.url}/healthz`, { ca, token: sim.token })).rejects.toThrow(/ECONNREFUSED|ECONNRESET/);
    await sim.restoreNode(node.name);
    expect((await getKubelet(`${node.url}/healthz`, { ca, token: sim.token })).status).toBe(200);
    await sim.stopNode(node.name, 'hang');
    await expect(getKubelet(`${node.url}/healthz`, { ca, token: sim.token, timeoutMs: 500 })).rejects.toThrow(/timeout/);
    await sim.restoreNode(node.name);
    expect((await getKubelet(`${node.url}/healthz`, { ca, token: sim.token })).status).toBe(200);
  });
});

describe('stopping', () => {
  it('does not wait for a hung node\'s open connections', async () => {
    const o = 100 + Math.floor(Math.random() * 40);
    const sim = await Simulator.start({ register: false, nodes: 2, podsPerNode: 2, namePrefix: `kh${o}`, addressOctet: o, kubeletPort: 0, tokens: ['test-token-123456'], outDir: mkdtempSync(join(tmpdir(), 'sim-')) });
    const ca = readFileSync(sim.caFile, 'utf8');
    const node = sim.nodes()[0]!;
    await sim.stopNode(node.name, 'hang');
    const pending = getKubelet(`${node.url}/healthz`, { ca, token: sim.token, timeoutMs: 30_000 }).catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 200)); // the request is connected and waiting
    const started = Date.now();
    await sim.stop();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe('injected errors', () => {
  it('give 5xx, resets, truncated and invalid JSON', async () => {
    const o = 150 + Math.floor(Math.random() * 40);
    const sim = await Simulator.start({
      register: false,
      nodes: 1,
      podsPerNode: 3,
      namePrefix: `er${o}`,
      addressOctet: o,
      kubeletPort: 0,
      errorRate: 1,
      latency: '5ms',
      tokens: ['test-token-123456'],
      outDir: mkdtempSync(join(tmpdir(), 'sim-')),
    });
    try {
      const ca = readFileSync(sim.caFile, 'utf8');
      const url = `${sim.nodes()[0]!.url}/stats/summary`;
      const seen = new Set<string>();
      for (let i = 0; i < 40 && seen.size < 4; i++) {
        try {
          const r = await getKubelet(url, { ca, token: sim.token });
          if (r.status >= 500) seen.add('5xx');
          else {
            try {
              JSON.parse(r.body);
              seen.add('valid?!');
            } catch {
              seen.add(r.body.includes('NaN') || r.body.includes('"pods":,') ? 'invalid' : 'truncated');
            }
          }
        } catch (err) {
          seen.add(/ECONNRESET|socket hang up/.test((err as Error).message) ? 'reset' : (err as Error).message);
        }
      }
      expect([...seen].sort()).toEqual(['5xx', 'invalid', 'reset', 'truncated']);
      expect(new Set(sim.served(0).map((r) => r.outcome))).toEqual(new Set(['5xx', 'invalid', 'reset', 'truncated']));
    } finally {
      await sim.stop();
    }
  });
});

describe('same seed, same payloads', () => {
  it('two simulators with the same seed and epoch serve byte-identical bodies', async () => {
    const epoch = Date.UTC(2026, 5, 1);
    let now = epoch + 3_600_000;
    const start = (o: number, seed: number) =>
      Simulator.start({
        register: false,
        nodes: 2,
        podsPerNode: 6,
        seed,
        epoch,
        churn: 100,
        restartRate: 1,
        namePrefix: 'same',
        addressOctet: o,
        kubeletPort: 0,
        tokens: ['test-token-123456'],
        clock: () => now,
        outDir: mkdtempSync(join(tmpdir(), 'sim-')),
      });
    const o = 100 + Math.floor(Math.random() * 40);
    const [a, b, c] = await Promise.all([start(o, 5), start(o + 50, 5), start(o + 100, 6)]);
    try {
      const body = async (s: Simulator, path: string) =>
        (await getKubelet(`${s.nodes()[1]!.url}${path}`, { ca: readFileSync(s.caFile, 'utf8'), token: 'test-token-123456' })).body;
      // Only the node addresses differ (each simulator needs its own); /pods carries them as hostIP.
      const plain = (s: string) => s.replace(/127\.\d+\./g, '127.X.');
      for (const path of ['/stats/summary', '/metrics/resource', '/pods']) {
        expect(plain(await body(a, path))).toBe(plain(await body(b, path)));
        expect(plain(await body(a, path))).not.toBe(plain(await body(c, path)));
      }
      now += 25_000;
      expect(await body(a, '/stats/summary')).toBe(await body(b, '/stats/summary'));
    } finally {
      await Promise.all([a.stop(), b.stop(), c.stop()]);
    }
  });
});
