import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { type K8sObject, kubeEnv, kubectl, kustomize, overlayDir, type ServiceName } from './support.js';

/**
 * Runs an API call again while the shared API server is away (other suites restart it):
 * network errors and 5xx/429 answers; any other answer, 403 included, is returned.
 */
export async function retryTransient<T>(call: () => Promise<T>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await call();
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      const transient = typeof code !== 'number' || code >= 500 || code === 429;
      if (!transient || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/**
 * deploy/'s ServiceAccounts and RBAC, created for real in the test API server under a
 * unique namespace, with cluster-scoped names suffixed so that tests never collide.
 */
export class DeployedRbac {
  readonly admin = new KubeConfig();
  private readonly core: CoreV1Api;
  private readonly created: K8sObject[] = [];

  constructor(readonly namespace: string) {
    this.admin.loadFromFile(kubeEnv().KUBECONFIG);
    this.core = this.admin.makeApiClient(CoreV1Api);
  }

  /** The RBAC objects of `objects` (default: the external overlay), moved to this namespace. */
  transform(objects: K8sObject[] = kustomize(overlayDir('external')).objects): K8sObject[] {
    const kinds = ['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
    const suffix = `-${this.namespace}`;
    return objects
      .filter((o) => kinds.includes(o.kind))
      .map((o) => {
        const copy = structuredClone(o) as K8sObject & { roleRef?: { kind: string; name: string }; subjects?: { namespace?: string }[] };
        if (o.kind.startsWith('Cluster')) copy.metadata.name += suffix;
        else copy.metadata.namespace = this.namespace;
        if (copy.roleRef?.kind === 'ClusterRole') copy.roleRef.name += suffix;
        for (const s of copy.subjects ?? []) s.namespace = this.namespace;
        return copy;
      });
  }

  async create(objects: K8sObject[] = this.transform()): Promise<void> {
    if (!this.created.length) await retryTransient(() => this.core.createNamespace({ body: { metadata: { name: this.namespace } } }));
    const r = kubectl(['apply', '-f', '-'], objects.map((o) => `---\n${stringify(o)}`).join(''));
    if (r.status !== 0) throw new Error(`kubectl apply failed: ${r.stderr}`);
    this.created.push(...objects);
  }

  /** A bound token for ServiceAccount heapstream-<service> (TokenRequest API). */
  async token(service: ServiceName, expirationSeconds = 900): Promise<string> {
    const tr = await retryTransient(() => this.core.createNamespacedServiceAccountToken({ name: `heapstream-${service}`, namespace: this.namespace, body: { spec: { audiences: [], expirationSeconds } } }));
    if (!tr.status?.token) throw new Error(`no token for ${service}`);
    return tr.status.token;
  }

  /** A kubeconfig that authenticates with the service's token. */
  async kubeConfig(service: ServiceName): Promise<KubeConfig> {
    const token = await this.token(service);
    const cluster = this.admin.getCurrentCluster()!;
    const kc = new KubeConfig();
    kc.loadFromOptions({ clusters: [{ ...cluster, name: 'test' }], users: [{ name: service, token }], contexts: [{ name: service, cluster: 'test', user: service }], currentContext: service });
    return kc;
  }

  async delete(): Promise<void> {
    const clusterScoped = this.created.filter((o) => o.kind.startsWith('Cluster'));
    if (clusterScoped.length) kubectl(['delete', '--ignore-not-found', '--wait=false', '-f', '-'], clusterScoped.map((o) => `---\n${stringify(o)}`).join(''));
    await this.core.deleteNamespace({ name: this.namespace }).catch(() => undefined);
  }
}
