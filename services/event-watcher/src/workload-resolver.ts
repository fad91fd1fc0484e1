import type { ObjectRef, WorkloadRef } from '@heapstream/contracts';
import { KubeApiError, type KubeHttp } from '@heapstream/kube';
import type { WorkloadResolver } from './watcher.js';

/** Where to GET each kind that can own, or be, a workload. */
const PATHS: Record<string, (ns: string, name: string) => string> = {
  Pod: (ns, n) => `/api/v1/namespaces/${ns}/pods/${n}`,
  ReplicaSet: (ns, n) => `/apis/apps/v1/namespaces/${ns}/replicasets/${n}`,
  Job: (ns, n) => `/apis/batch/v1/namespaces/${ns}/jobs/${n}`,
};
const TOP_LEVEL = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'ReplicationController']);

interface OwnerRef {
  apiVersion?: string;
  kind?: string;
  name?: string;
  uid?: string;
  controller?: boolean;
}

/**
 * Follows controller ownerReferences (Pod → ReplicaSet → Deployment, Pod → Job → CronJob)
 * through the API, caching answers (including "none") for `ttlMs`. A Pod that is gone
 * has no known workload; that is not an error.
 */
export class ApiWorkloadResolver implements WorkloadResolver {
  private readonly cache = new Map<string, { at: number; value: Promise<WorkloadRef | undefined> }>();

  constructor(
    private readonly http: KubeHttp,
    private readonly ttlMs = 5 * 60_000,
    private readonly maxEntries = 10_000,
  ) {}

  resolve(ref: ObjectRef): Promise<WorkloadRef | undefined> {
    const { kind, name, namespace } = ref;
    if (!kind || !name || !namespace) return Promise.resolve(undefined);
    return this.cached(`${kind}/${namespace}/${name}`, () => this.walk(kind, namespace, name, ref.apiVersion, ref.uid, 0));
  }

  private cached(key: string, load: () => Promise<WorkloadRef | undefined>): Promise<WorkloadRef | undefined> {
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < this.ttlMs) return hit.value;
    if (this.cache.size >= this.maxEntries) this.cache.delete(this.cache.keys().next().value!);
    const value = load().catch(() => {
      this.cache.delete(key);
      return undefined;
    });
    this.cache.set(key, { at: Date.now(), value });
    return value;
  }

  private async walk(kind: string, ns: string, name: string, apiVersion: string | undefined, uid: string | undefined, depth: number): Promise<WorkloadRef | undefined> {
    const self: WorkloadRef = { kind, name, namespace: ns, ...(apiVersion ? { apiVersion } : {}), ...(uid ? { uid } : {}) };
    if (TOP_LEVEL.has(kind) || depth > 3) return kind === 'Pod' ? undefined : self;
    const path = PATHS[kind];
    if (!path) return undefined;
    let obj: { metadata?: { ownerReferences?: OwnerRef[] } };
    try {
      obj = await this.http.request('GET', path(ns, name), { timeoutMs: 2_000 });
    } catch (err) {
      if (err instanceof KubeApiError && (err.statusCode === 404 || err.statusCode === 403)) return kind === 'Pod' ? undefined : self;
      throw err;
    }
    const owner = obj.metadata?.ownerReferences?.find((o) => o.controller) ?? obj.metadata?.ownerReferences?.[0];
    if (!owner?.kind || !owner.name) return kind === 'Pod' ? undefined : self;
    return this.walk(owner.kind, ns, owner.name, owner.apiVersion, owner.uid, depth + 1);
  }
}
