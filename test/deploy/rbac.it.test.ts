import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthorizationV1Api, CoordinationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { uniqueName } from '@heapstream/testing';
import { DeployedRbac, retryTransient } from './rbac-support.js';
import { type K8sObject, ROOT, SERVICES, type ServiceName } from './support.js';

/*
 * Least privilege, checked for real: the ServiceAccounts, roles and bindings of
 * deploy/ (from the kustomize output) are created in the test API server under a
 * unique namespace and unique cluster-scoped names, each service gets a token from the
 * TokenRequest API, and the API server itself answers what that token may do
 * (SelfSubjectAccessReview) and what it may not (actual requests answered 403).
 */

const ns = uniqueName('rbac');
const rbac = new DeployedRbac(ns);

interface Access {
  verb: string;
  resource: string;
  group?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}
const a = (verb: string, resource: string, more: Partial<Access> = {}): Access => ({ verb, resource, ...more });
const label = (x: Access) => `${x.verb} ${x.group ? `${x.group}/` : ''}${x.resource}${x.subresource ? `/${x.subresource}` : ''}${x.namespace ? ` in ${x.namespace === ns ? 'own namespace' : x.namespace}` : ''}${x.name ? ` named ${x.name}` : ''}`;

async function allowed(kc: KubeConfig, x: Access): Promise<boolean> {
  const api = kc.makeApiClient(AuthorizationV1Api);
  const r = await retryTransient(() => api.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { verb: x.verb, resource: x.resource, group: x.group ?? '', subresource: x.subresource, namespace: x.namespace, name: x.name } } } }));
  return r.status?.allowed === true;
}

/** HTTP status of a call made with the service's token. */
async function status(call: () => Promise<unknown>): Promise<number> {
  try {
    await retryTransient(call);
    return 200;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

const NEEDS: Record<ServiceName, Access[]> = {
  scraper: [a('list', 'nodes'), a('watch', 'nodes'), a('get', 'nodes'), a('get', 'nodes', { subresource: 'stats' }), a('get', 'nodes', { subresource: 'metrics' })],
  'event-watcher': [
    a('list', 'events'),
    a('watch', 'events'),
    a('list', 'events', { group: 'events.k8s.io' }),
    a('watch', 'events', { group: 'events.k8s.io' }),
    a('get', 'pods', { namespace: 'default' }),
    a('get', 'replicasets', { group: 'apps', namespace: 'default' }),
    a('get', 'jobs', { group: 'batch', namespace: 'default' }),
    a('create', 'leases', { group: 'coordination.k8s.io', namespace: ns }),
    a('get', 'leases', { group: 'coordination.k8s.io', namespace: ns, name: 'heapstream-event-watcher' }),
    a('update', 'leases', { group: 'coordination.k8s.io', namespace: ns, name: 'heapstream-event-watcher' }),
  ],
  aggregator: [
    ...['pods', 'nodes', 'namespaces'].flatMap((r) => [a('list', r), a('watch', r)]),
    ...['replicasets', 'deployments', 'daemonsets', 'statefulsets'].flatMap((r) => [a('get', r, { group: 'apps' }), a('list', r, { group: 'apps' }), a('watch', r, { group: 'apps' })]),
    ...['jobs', 'cronjobs'].flatMap((r) => [a('get', r, { group: 'batch' }), a('list', r, { group: 'batch' }), a('watch', r, { group: 'batch' })]),
  ],
  'storage-writer': [],
};

const REFUSED: Record<ServiceName, Access[]> = {
  scraper: [a('list', 'secrets'), a('get', 'secrets', { namespace: ns }), a('delete', 'nodes'), a('update', 'nodes'), a('patch', 'nodes', { subresource: 'status' }), a('get', 'nodes', { subresource: 'proxy' }), a('list', 'pods'), a('list', 'events'), a('create', 'pods', { namespace: ns })],
  'event-watcher': [
    a('list', 'secrets'),
    a('list', 'pods'),
    a('create', 'events', { namespace: 'default' }),
    a('delete', 'events', { namespace: 'default' }),
    a('list', 'replicasets', { group: 'apps' }),
    a('get', 'leases', { group: 'coordination.k8s.io', namespace: ns, name: 'someone-elses-lease' }),
    a('update', 'leases', { group: 'coordination.k8s.io', namespace: ns, name: 'someone-elses-lease' }),
    a('create', 'leases', { group: 'coordination.k8s.io', namespace: 'kube-system' }),
    a('delete', 'leases', { group: 'coordination.k8s.io', namespace: ns, name: 'heapstream-event-watcher' }),
  ],
  aggregator: [a('list', 'secrets'), a('get', 'configmaps', { namespace: ns }), a('list', 'events'), a('patch', 'pods', { namespace: 'default' }), a('delete', 'pods', { namespace: 'default' }), a('update', 'deployments', { group: 'apps', namespace: 'default' }), a('get', 'nodes', { subresource: 'stats' })],
  'storage-writer': [a('list', 'pods'), a('get', 'pods', { namespace: ns }), a('list', 'nodes'), a('list', 'events'), a('list', 'secrets'), a('get', 'nodes', { subresource: 'stats' }), a('create', 'leases', { group: 'coordination.k8s.io', namespace: ns })],
};

const tokens = {} as Record<ServiceName, KubeConfig>;

beforeAll(async () => {
  await rbac.create();
  for (const s of SERVICES) tokens[s] = await rbac.kubeConfig(s);
});

afterAll(() => rbac.delete());

describe.each(SERVICES)('%s ServiceAccount', (service) => {
  it('may do everything the service needs (SelfSubjectAccessReview)', async () => {
    const answers = await Promise.all(NEEDS[service].map(async (x) => [label(x), await allowed(tokens[service], x)] as const));
    expect(answers.filter(([, ok]) => !ok).map(([l]) => l)).toEqual([]);
  });

  it('may do nothing outside its role (SelfSubjectAccessReview)', async () => {
    const answers = await Promise.all(REFUSED[service].map(async (x) => [label(x), await allowed(tokens[service], x)] as const));
    expect(answers.filter(([, ok]) => ok).map(([l]) => l)).toEqual([]);
  });
});

describe('actual requests with the service tokens', () => {
  it('scraper: lists Nodes; listing Secrets and deleting a Node answer 403', async () => {
    const core = tokens.scraper.makeApiClient(CoreV1Api);
    expect(await status(() => core.listNode({ limit: 1 }))).toBe(200);
    expect(await status(() => core.listSecretForAllNamespaces({ limit: 1 }))).toBe(403);
    expect(await status(() => core.deleteNode({ name: 'any-node' }))).toBe(403);
    expect(await status(() => core.listPodForAllNamespaces({ limit: 1 }))).toBe(403);
  });

  it('event-watcher: lists Events from both APIs and holds its Lease; other Leases and Secrets answer 403', async () => {
    const kc = tokens['event-watcher'];
    const core = kc.makeApiClient(CoreV1Api);
    expect(await status(() => core.listEventForAllNamespaces({ limit: 1 }))).toBe(200);
    const events = await kc.makeApiClient(AuthorizationV1Api).createSelfSubjectRulesReview({ body: { spec: { namespace: ns } } });
    expect(events.status?.resourceRules.some((r) => r.apiGroups?.includes('events.k8s.io') && r.verbs.includes('watch'))).toBe(true);
    const leases = kc.makeApiClient(CoordinationV1Api);
    const lease = { metadata: { name: 'heapstream-event-watcher' }, spec: { holderIdentity: 'rbac-test', leaseDurationSeconds: 15 } };
    expect(await status(() => leases.createNamespacedLease({ namespace: ns, body: lease }))).toBe(200);
    const current = await leases.readNamespacedLease({ namespace: ns, name: 'heapstream-event-watcher' });
    expect(await status(() => leases.replaceNamespacedLease({ namespace: ns, name: 'heapstream-event-watcher', body: { ...current, spec: { ...current.spec, holderIdentity: 'rbac-test-2' } } }))).toBe(200);
    expect(await status(() => leases.readNamespacedLease({ namespace: ns, name: 'someone-elses-lease' }))).toBe(403);
    expect(await status(() => leases.deleteNamespacedLease({ namespace: ns, name: 'heapstream-event-watcher' }))).toBe(403);
    expect(await status(() => core.listSecretForAllNamespaces({ limit: 1 }))).toBe(403);
  });

  it('aggregator: lists Pods, Nodes and Namespaces; deleting a Pod and reading Secrets answer 403', async () => {
    const core = tokens.aggregator.makeApiClient(CoreV1Api);
    expect(await status(() => core.listPodForAllNamespaces({ limit: 1 }))).toBe(200);
    expect(await status(() => core.listNode({ limit: 1 }))).toBe(200);
    expect(await status(() => core.listNamespace({ limit: 1 }))).toBe(200);
    expect(await status(() => core.deleteNamespacedPod({ namespace: 'default', name: 'any-pod' }))).toBe(403);
    expect(await status(() => core.listSecretForAllNamespaces({ limit: 1 }))).toBe(403);
  });

  it('storage-writer: even listing Pods answers 403', async () => {
    const core = tokens['storage-writer'].makeApiClient(CoreV1Api);
    expect(await status(() => core.listPodForAllNamespaces({ limit: 1 }))).toBe(403);
    expect(await status(() => core.listNode({ limit: 1 }))).toBe(403);
  });
});

describe('component kubelet-proxy', () => {
  it('grants the scraper get on nodes/proxy, nothing more', async () => {
    const proxyGet = a('get', 'nodes', { subresource: 'proxy' });
    expect(await allowed(tokens.scraper, proxyGet)).toBe(false);
    const docs = parseAllDocuments(readFileSync(`${ROOT}/deploy/components/kubelet-proxy/rbac.yaml`, 'utf8'));
    const objects = (Array.isArray(docs) ? docs : [docs]).map((d) => d.toJSON() as K8sObject);
    await rbac.create(rbac.transform(objects));
    expect(await allowed(tokens.scraper, proxyGet)).toBe(true);
    expect(await allowed(tokens.scraper, a('create', 'nodes', { subresource: 'proxy' }))).toBe(false);
    expect(await allowed(tokens.scraper, a('list', 'secrets'))).toBe(false);
  });
});
