import { describe, expect, it } from 'vitest';
import { CoreV1Api, KubeConfig, Watch, type V1Node } from '@kubernetes/client-node';
import { testEnv, uniqueName, waitFor } from '@heapstream/testing';

describe('real kube-apiserver with @kubernetes/client-node', () => {
  const kc = new KubeConfig();
  kc.loadFromFile(testEnv().KUBECONFIG);
  const core = kc.makeApiClient(CoreV1Api);

  it('creates a Node and a Pod bound to it, lists them, and writes pod status', async () => {
    const node = uniqueName('smoke-node');
    const ns = uniqueName('smoke');
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await core.createNode({ body: { metadata: { name: node, labels: { 'heapstream.io/test': 'smoke' } }, status: { addresses: [{ type: 'InternalIP', address: '127.0.9.1' }] } } });
    await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'p' }, spec: { nodeName: node, containers: [{ name: 'c', image: 'busybox' }] } } });
    await core.replaceNamespacedPodStatus({
      namespace: ns,
      name: 'p',
      body: { ...(await core.readNamespacedPod({ namespace: ns, name: 'p' })), status: { phase: 'Running' } },
    });
    const nodes = await core.listNode({ labelSelector: 'heapstream.io/test=smoke' });
    expect(nodes.items.map((n) => n.metadata?.name)).toContain(node);
    const pods = await core.listNamespacedPod({ namespace: ns, fieldSelector: `spec.nodeName=${node}` });
    expect(pods.items.map((p) => [p.metadata?.name, p.status?.phase])).toEqual([['p', 'Running']]);
  });

  it('watches Nodes and resumes from a resourceVersion without missing a change', async () => {
    const label = uniqueName('w');
    const make = (name: string) => core.createNode({ body: { metadata: { name, labels: { 'heapstream.io/watch': label } } } });
    const list = await core.listNode({ labelSelector: `heapstream.io/watch=${label}` });
    const seen: string[] = [];
    const watch = new Watch(kc);
    const first = await watch.watch('/api/v1/nodes', { labelSelector: `heapstream.io/watch=${label}`, resourceVersion: list.metadata?.resourceVersion }, (type, obj: V1Node) => seen.push(`${type}:${obj.metadata?.name}`), () => undefined);
    await make(`${label}-a`);
    await waitFor('first watch sees a', async () => seen.includes(`ADDED:${label}-a`), { timeoutMs: 20_000 });
    const node = await core.readNode({ name: `${label}-a` });
    first.abort();

    // Changes made while no watch runs are delivered when watching resumes from the last resourceVersion.
    await make(`${label}-b`);
    const resumed: string[] = [];
    const second = await watch.watch('/api/v1/nodes', { labelSelector: `heapstream.io/watch=${label}`, resourceVersion: node.metadata?.resourceVersion }, (type, obj: V1Node) => resumed.push(`${type}:${obj.metadata?.name}`), () => undefined);
    await waitFor('resumed watch sees b', async () => resumed.includes(`ADDED:${label}-b`), { timeoutMs: 20_000 });
    second.abort();
    expect(resumed).not.toContain(`ADDED:${label}-a`);
  });
});
