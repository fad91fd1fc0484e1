import { testEnv } from '@heapstream/testing';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { AppsV1Api, CoreV1Api, KubeConfig, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Simulator } from './simulator.js';
import { getKubelet, waitFor } from './test-client.js';
import type { SimLogger } from './logger.js';

// The real API server is required: testEnv() fails with a clear message when it is not running.
const kubeconfig = testEnv().KUBECONFIG;
const run = `it${Date.now().toString(36).slice(-5)}${Math.floor(Math.random() * 1e4).toString(36)}`;

describe('simulator against the real API server', () => {
  let sim: Simulator;
  let ca: string;
  const kc = new KubeConfig();
  let core: CoreV1Api;
  let apps: AppsV1Api;
  const watched = new Map<string, string[]>();
  let stopWatch: (() => void) | undefined;

  beforeAll(async () => {
    kc.loadFromFile(kubeconfig!);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    const controller = await new Watch(kc).watch(
      '/api/v1/nodes',
      { labelSelector: 'heapstream.io/simulated=true' },
      (type, obj: { metadata: { name: string } }) => {
        if (!obj.metadata.name.startsWith(run)) return;
        watched.set(obj.metadata.name, [...(watched.get(obj.metadata.name) ?? []), type]);
      },
      () => undefined,
    );
    stopWatch = () => controller.abort();
    sim = await Simulator.start({
      kubeconfig,
      nodes: 3,
      podsPerNode: 4,
      containersPerPod: '1-2',
      namePrefix: run,
      addressOctet: 100 + Math.floor(Math.random() * 50),
      kubeletPort: 0,
      churn: 1800,
      restartRate: 20,
      eventsPerSecond: 4,
      nodeStatusInterval: '5s',
      tokens: ['it-token-abcdefgh'],
      outDir: mkdtempSync(join(tmpdir(), 'sim-it-')),
    });
    ca = readFileSync(sim.caFile, 'utf8');
    await sim.registered();
  });

  afterAll(async () => {
    stopWatch?.();
    await sim?.stop({ cleanup: true });
  });

  it('registers watchable Nodes with addresses, kubelet port, capacity and a fresh Ready condition', async () => {
    const infos = sim.nodes();
    await waitFor('watch events for every node', () => infos.every((n) => watched.get(n.name)?.includes('ADDED')));
    for (const info of infos) {
      const node = await core.readNode({ name: info.name });
      expect(node.status?.addresses).toEqual([
        { type: 'InternalIP', address: info.address },
        { type: 'Hostname', address: info.name },
      ]);
      expect(node.status?.daemonEndpoints?.kubeletEndpoint?.Port).toBe(info.port);
      expect(node.status?.capacity?.cpu).toMatch(/^\d+$/);
      expect(node.metadata?.labels?.['kubernetes.io/hostname']).toBe(info.name);
      const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
      expect(ready?.status).toBe('True');
    }
    // Heartbeats keep Ready fresh: the watch sees MODIFIED.
    await waitFor('a heartbeat', () => infos.some((n) => (watched.get(n.name) ?? []).includes('MODIFIED')), 20_000);
  });

  it('creates running Pods on their nodes, owned by ReplicaSet -> Deployment, DaemonSet or StatefulSet', async () => {
    const pods = (await core.listPodForAllNamespaces({ labelSelector: 'heapstream.io/simulated=true' })).items.filter((p) =>
      p.metadata?.namespace?.startsWith(run),
    );
    expect(pods.length).toBeGreaterThanOrEqual(12);
    const nodeNames = new Set(sim.nodes().map((n) => n.name));
    for (const p of pods) {
      expect(nodeNames.has(p.spec?.nodeName ?? '')).toBe(true);
      expect(p.status?.phase).toBe('Running');
      expect(p.status?.containerStatuses?.[0]?.restartCount).toBeGreaterThanOrEqual(0);
      expect(p.spec?.containers[0]?.resources).toBeDefined();
    }
    const kinds = new Set(pods.map((p) => p.metadata?.ownerReferences?.[0]?.kind));
    expect(kinds.has('ReplicaSet')).toBe(true);
    expect(kinds.has('DaemonSet')).toBe(true);
    const rsPod = pods.find((p) => p.metadata?.ownerReferences?.[0]?.kind === 'ReplicaSet')!;
    const rsRef = rsPod.metadata!.ownerReferences![0]!;
    const rs = await apps.readNamespacedReplicaSet({ name: rsRef.name, namespace: rsPod.metadata!.namespace! });
    expect(rs.metadata?.uid).toBe(rsRef.uid);
    const depRef = rs.metadata?.ownerReferences?.[0];
    expect(depRef?.kind).toBe('Deployment');
    const dep = await apps.readNamespacedDeployment({ name: depRef!.name, namespace: rsPod.metadata!.namespace! });
    expect(dep.metadata?.uid).toBe(depRef!.uid);
  });

  it('reports in the kubelet summary the pod uids the API server gave, and refuses without a token', async () => {
    const info = sim.nodes()[0]!;
    expect((await getKubelet(`${info.url}/stats/summary`, { ca })).status).toBe(401);
    const summary = JSON.parse((await getKubelet(`${info.url}/stats/summary`, { ca, token: 'it-token-abcdefgh' })).body);
    const apiPods = (await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${info.name}` })).items;
    const apiUids = new Set(apiPods.map((p) => p.metadata?.uid));
    expect(summary.pods.length).toBeGreaterThan(0);
    for (const p of summary.pods) expect(apiUids.has(p.podRef.uid), p.podRef.name).toBe(true);
  });

  it('replaces pods (churn) and restarts containers in the API and the summary', async () => {
    const ns = sim.cluster.model.namespaces;
    const initial = new Set(
      (await Promise.all(ns.map((n) => core.listNamespacedPod({ namespace: n })))).flatMap((l) => l.items.map((p) => p.metadata!.uid!)),
    );
    await waitFor(
      'a replaced pod',
      async () => {
        const now = (await Promise.all(ns.map((n) => core.listNamespacedPod({ namespace: n })))).flatMap((l) => l.items);
        return now.some((p) => !initial.has(p.metadata!.uid!)) && now.length >= 12;
      },
      60_000,
      500,
    );
    await waitFor(
      'a restarted container in the API',
      async () => {
        const now = (await Promise.all(ns.map((n) => core.listNamespacedPod({ namespace: n })))).flatMap((l) => l.items);
        return now.some((p) => (p.status?.containerStatuses ?? []).some((c) => c.restartCount > 0 && c.lastState?.terminated));
      },
      60_000,
      500,
    );
  });

  it('writes Events at the requested rate, with repeats that bump count or series', async () => {
    const ns = sim.cluster.model.namespaces;
    await waitFor(
      'events with repeats',
      async () => {
        const core1 = (await Promise.all(ns.map((n) => core.listNamespacedEvent({ namespace: n })))).flatMap((l) => l.items);
        return core1.length >= 10 && core1.some((e) => (e.count ?? 0) > 1 || (e.series?.count ?? 0) > 1);
      },
      60_000,
      1000,
    );
    const reasons = new Set(sim.eventsWritten().map((e) => e.reason));
    expect(reasons.size).toBeGreaterThan(2);
  });
});

describe('API server that is not there', () => {
  it('is retried with backoff and reported', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const dir = mkdtempSync(join(tmpdir(), 'sim-dead-'));
    const cfg = readFileSync(kubeconfig!, 'utf8').replace(/server: .*/, `server: https://127.0.0.1:${port}`);
    writeFileSync(join(dir, 'kubeconfig'), cfg);
    const warnings: string[] = [];
    const logger: SimLogger = { info: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
    const sim = await Simulator.start({
      kubeconfig: join(dir, 'kubeconfig'),
      nodes: 1,
      podsPerNode: 1,
      namePrefix: `${run}-dead`,
      addressOctet: 160 + Math.floor(Math.random() * 30),
      kubeletPort: 0,
      outDir: dir,
      logger,
    });
    try {
      await waitFor('an unavailability report', () => warnings.some((w) => /API server unavailable/.test(w)));
      expect(sim.apiHealth?.healthy).toBe(false);
      // Kubelets keep serving while the API server is away.
      const info = sim.nodes()[0]!;
      const reply = await getKubelet(`${info.url}/healthz`, { ca: readFileSync(sim.caFile, 'utf8'), token: sim.token });
      expect(reply.status).toBe(200);
    } finally {
      await sim.stop();
    }
  });
});

describe('shutdown', () => {
  it('leaves what it created without cleanup and deletes it with cleanup', async () => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig!);
    const core = kc.makeApiClient(CoreV1Api);
    const start = (prefix: string) =>
      Simulator.start({
        kubeconfig,
        nodes: 1,
        podsPerNode: 2,
        namePrefix: prefix,
        addressOctet: 191 + Math.floor(Math.random() * 40),
        kubeletPort: 0,
        outDir: mkdtempSync(join(tmpdir(), 'sim-stop-')),
      });
    const kept = await start(`${run}-keep`);
    await kept.registered();
    const keptNode = kept.nodes()[0]!.name;
    await kept.stop();
    expect((await core.readNode({ name: keptNode })).metadata?.name).toBe(keptNode);
    await core.deleteNode({ name: keptNode });

    const cleaned = await start(`${run}-clean`);
    await cleaned.registered();
    const node = cleaned.nodes()[0]!.name;
    const ns = `${run}-clean-system`;
    expect((await core.listNamespacedPod({ namespace: ns })).items.length).toBeGreaterThan(0);
    await cleaned.stop({ cleanup: true });
    await expect(core.readNode({ name: node })).rejects.toThrow();
    expect((await core.listNamespacedPod({ namespace: ns })).items).toEqual([]);
    // Gone, not left Terminating (the local API server runs no namespace controller),
    // so the same simulator can start again at once.
    await expect(core.readNamespace({ name: ns })).rejects.toThrow();
    const again = await start(`${run}-clean`);
    await again.registered();
    expect((await core.listNamespacedPod({ namespace: ns })).items.length).toBeGreaterThan(0);
    await again.stop({ cleanup: true });
  });
});
