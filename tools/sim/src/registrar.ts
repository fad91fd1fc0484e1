import type { SimLogger } from './logger.js';
import { isTransientKubeError, KubeApiError, type KubeHttp } from '@heapstream/kube';
import type { ClusterModel, NodeState, PodState, Workload } from './model.js';
import { nodeObject, nodeStatus, podObject, pvcObject, workloadObjects, SIM_LABEL } from './objects.js';
import { retry } from '@heapstream/observability';

/**
 * Mirrors the simulated cluster into the API server: namespaces, owners, Nodes
 * (status kept fresh), Pods and their status. Every call is retried with backoff
 * while the API server is away; the outage is reported once and its end too.
 */

export interface ApiHealth {
  healthy: boolean;
  failures: number;
  lastError?: string;
  since: number;
}

interface Created {
  path: string;
  kind: string;
}

interface NamespaceObject {
  metadata: { name: string; labels?: Record<string, string> };
  spec?: { finalizers?: string[] };
  status?: { phase?: string };
}

export class Registrar {
  readonly podUids = new Map<string, string>();
  /** Every uid a pod ever had, kept after deletion: ground truth for past samples needs it. */
  readonly everPodUids = new Map<string, string>();
  private readonly ownerUids = new Map<string, string>();
  private readonly created: Created[] = [];
  private readonly createdNamespaces: string[] = [];
  private readonly abort = new AbortController();
  private heartbeatTimer?: NodeJS.Timeout;
  private readonly readySince = new Map<number, number>();
  private inFlight = 0;
  failedPods = 0;
  private readonly waiting: Array<() => void> = [];
  readonly health: ApiHealth = { healthy: true, failures: 0, since: Date.now() };

  constructor(
    private readonly api: KubeHttp,
    private readonly model: ClusterModel,
    private readonly opts: {
      concurrency: number;
      nodeStatusIntervalMs: number;
      logger: SimLogger;
      kubeletPort: (index: number) => number;
      now: () => number;
      /** A node whose kubelet is down (an outage) stops heartbeating, like a dead kubelet. */
      isDown?: (index: number) => boolean;
    },
  ) {}

  ownerUid(pod: PodState): string | undefined {
    const w = pod.workload;
    return this.ownerUids.get(`${w.namespace}/${w.kind === 'Deployment' ? `ReplicaSet/${w.replicaSetName}` : `${w.kind}/${w.name}`}`);
  }

  /** Bounded concurrency + retry until success or shutdown. */
  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    while (this.inFlight >= this.opts.concurrency) await new Promise<void>((r) => this.waiting.push(r));
    this.inFlight++;
    try {
      const result = await retry(() => fn(), {
        backoff: { initialMs: 200, maxMs: 10_000, jitter: 0.5 },
        signal: this.abort.signal,
        isRetryable: isTransientKubeError,
        onRetry: (err, attempt, delayMs) => {
          this.health.failures++;
          this.health.lastError = (err as Error).message;
          if (this.health.healthy) {
            this.health.healthy = false;
            this.health.since = Date.now();
            this.opts.logger.warn(`API server unavailable (${what}): ${(err as Error).message}; retrying with backoff`);
          } else if (attempt % 10 === 0) {
            this.opts.logger.warn(`API server still unavailable after ${attempt} attempts (${what}); next try in ${delayMs} ms`);
          }
        },
      });
      if (!this.health.healthy) {
        this.opts.logger.info(`API server reachable again after ${Math.round((Date.now() - this.health.since) / 1000)} s`);
        this.health.healthy = true;
        this.health.since = Date.now();
      }
      return result;
    } finally {
      this.inFlight--;
      this.waiting.shift()?.();
    }
  }

  /** POST, or on 409 read the existing object (a restarted simulator with the same prefix). */
  private async create(path: string, body: Record<string, unknown>, kind: string): Promise<{ metadata: { uid: string; name: string } }> {
    const name = (body.metadata as { name: string }).name;
    return this.call(`create ${kind} ${name}`, async () => {
      try {
        const obj = await this.api.request<{ metadata: { uid: string; name: string } }>('POST', path, { body, timeoutMs: 30_000 });
        this.created.push({ path: `${path}/${name}`, kind });
        return obj;
      } catch (err) {
        if (err instanceof KubeApiError && err.statusCode === 409) {
          this.created.push({ path: `${path}/${name}`, kind });
          return this.api.request('GET', `${path}/${name}`, { timeoutMs: 30_000 });
        }
        throw err;
      }
    });
  }

  async registerAll(): Promise<void> {
    for (const ns of this.model.namespaces) {
      await this.awaitNamespaceGone(ns);
      await this.create('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { [SIM_LABEL]: 'true' } } }, 'Namespace');
      this.createdNamespaces.push(ns);
    }
    await Promise.all(this.model.workloads.map((w) => this.registerWorkload(w)));
    await Promise.all(this.model.nodes.map((n) => this.registerNode(n)));
    this.startHeartbeats();
    const pods: Array<[PodState, NodeState]> = [];
    for (const n of this.model.nodes) for (const p of n.history[n.history.length - 1]!.pods) pods.push([p, n]);
    // One pod the API server rejects for good must not stop the others.
    await Promise.all(
      pods.map(([p, n]) =>
        this.createPod(p, n).catch((err: unknown) => {
          this.failedPods++;
          this.opts.logger.error(`pod ${p.namespace}/${p.name} not registered: ${(err as Error).message}`);
        }),
      ),
    );
  }

  private async registerWorkload(w: Workload): Promise<void> {
    const first = workloadObjects(w, {});
    let deploymentUid: string | undefined;
    for (const o of first) {
      const obj = await this.create(o.path, o.body, o.kind);
      if (o.kind === 'Deployment') deploymentUid = obj.metadata.uid;
      else this.ownerUids.set(`${w.namespace}/${o.kind}/${o.name}`, obj.metadata.uid);
    }
    if (deploymentUid) {
      for (const o of workloadObjects(w, { deployment: deploymentUid })) {
        const obj = await this.create(o.path, o.body, o.kind);
        this.ownerUids.set(`${w.namespace}/${o.kind}/${o.name}`, obj.metadata.uid);
      }
    }
  }

  private async registerNode(n: NodeState): Promise<void> {
    const spec = n.spec;
    await this.create('/api/v1/nodes', nodeObject(spec), 'Node');
    this.readySince.set(spec.index, this.opts.now());
    await this.putNodeStatus(n);
  }

  private putNodeStatus(n: NodeState): Promise<unknown> {
    const spec = n.spec;
    const body = { ...nodeObject(spec), status: nodeStatus(spec, this.opts.kubeletPort(spec.index), this.opts.now(), this.readySince.get(spec.index) ?? this.opts.now()) };
    return this.call(`node status ${spec.name}`, () => this.api.request('PUT', `/api/v1/nodes/${spec.name}/status`, { body, timeoutMs: 30_000 }));
  }

  /** Refresh every node's Ready heartbeat, spread evenly over the interval. */
  private startHeartbeats(): void {
    const nodes = this.model.nodes;
    if (nodes.length === 0 || this.heartbeatTimer) return;
    let next = 0;
    const stepMs = Math.max(10, Math.floor(this.opts.nodeStatusIntervalMs / nodes.length));
    const perStep = Math.max(1, Math.ceil((nodes.length * stepMs) / this.opts.nodeStatusIntervalMs));
    this.heartbeatTimer = setInterval(() => {
      for (let i = 0; i < perStep; i++) {
        const n = nodes[next]!;
        next = (next + 1) % nodes.length;
        if (this.opts.isDown?.(n.spec.index)) continue;
        this.putNodeStatus(n).catch(() => undefined);
      }
    }, stepMs);
    this.heartbeatTimer.unref();
  }

  async createPod(pod: PodState, node: NodeState): Promise<void> {
    const path = `/api/v1/namespaces/${pod.namespace}/pods`;
    for (const v of pod.volumes) {
      if (v.kind === 'pvc' && v.claimName) {
        await this.create(`/api/v1/namespaces/${pod.namespace}/persistentvolumeclaims`, pvcObject(pod.namespace, v.claimName, pod.workload.labels), 'PersistentVolumeClaim');
      }
    }
    const body = podObject(pod, node.spec, { ownerUid: this.ownerUid(pod), withStatus: false });
    const obj = await this.create(path, body, 'Pod');
    await this.putPodStatus(pod, node, obj.metadata.uid);
    this.podUids.set(pod.uid, obj.metadata.uid);
    this.everPodUids.set(pod.uid, obj.metadata.uid);
  }

  async putPodStatus(pod: PodState, node: NodeState, uid = this.podUids.get(pod.uid)): Promise<void> {
    const body = podObject(pod, node.spec, { uid, ownerUid: this.ownerUid(pod), withStatus: true });
    await this.call(`pod status ${pod.namespace}/${pod.name}`, () => this.api.request('PUT', `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}/status`, { body, timeoutMs: 30_000 }));
  }

  async deletePod(pod: PodState): Promise<void> {
    const uid = this.podUids.get(pod.uid);
    this.podUids.delete(pod.uid);
    await this.call(`delete pod ${pod.namespace}/${pod.name}`, async () => {
      try {
        // Precondition on uid: a StatefulSet pod is recreated under the same name.
        await this.api.request('DELETE', `/api/v1/namespaces/${pod.namespace}/pods/${pod.name}`, {
          body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0, ...(uid ? { preconditions: { uid } } : {}) },
          timeoutMs: 30_000,
        });
      } catch (err) {
        if (err instanceof KubeApiError && (err.statusCode === 404 || err.statusCode === 409)) return;
        throw err;
      }
    });
  }

  /** Replace: delete the old pod, then create the new one (same name for StatefulSets). */
  async replacePod(old: PodState, pod: PodState, node: NodeState): Promise<void> {
    await this.deletePod(old);
    await this.createPod(pod, node);
  }

  stopHeartbeats(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private getNamespace(ns: string): Promise<NamespaceObject | undefined> {
    return this.call(`read Namespace ${ns}`, () =>
      this.api.request<NamespaceObject>('GET', `/api/v1/namespaces/${ns}`, { timeoutMs: 30_000 }).catch((err: unknown) => {
        if (err instanceof KubeApiError && err.statusCode === 404) return undefined;
        throw err;
      }),
    );
  }

  /**
   * A namespace of ours still being deleted (an earlier run's cleanup) refuses new
   * objects: wait for it to go, finishing the deletion ourselves when nothing else does.
   */
  private async awaitNamespaceGone(ns: string): Promise<void> {
    const since = Date.now();
    for (let current = await this.getNamespace(ns); current?.status?.phase === 'Terminating'; current = await this.getNamespace(ns)) {
      const waited = Date.now() - since;
      if (waited > 180_000) throw new Error(`namespace ${ns} is still being deleted after 3 minutes`);
      if (waited < 1_000) this.opts.logger.info(`namespace ${ns} is being deleted (an earlier run's cleanup); waiting for it to go`);
      if (waited > 10_000 && current.metadata.labels?.[SIM_LABEL] === 'true') await this.finalizeNamespace(current);
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }

  /**
   * What the namespace controller does once a deleted namespace is empty: clear its
   * finalizers so it goes. The local API server runs no controllers, and without this a
   * deleted namespace stays Terminating forever.
   */
  private async finalizeNamespace(ns: NamespaceObject): Promise<void> {
    await this.api
      .request('PUT', `/api/v1/namespaces/${ns.metadata.name}/finalize`, { body: { ...ns, spec: { ...ns.spec, finalizers: [] } }, timeoutMs: 30_000 })
      .catch((err: unknown) => {
        if (!(err instanceof KubeApiError && err.statusCode === 404)) throw err;
      });
  }

  /** Delete what this run created (pods, owners, PVCs, nodes, namespaces), best effort, bounded time. */
  async cleanup(): Promise<void> {
    this.stopHeartbeats();
    const paths: string[] = [];
    for (const n of this.model.nodes) {
      for (const p of n.history[n.history.length - 1]!.pods) paths.push(`/api/v1/namespaces/${p.namespace}/pods/${p.name}`);
    }
    const order = ['Pod', 'ReplicaSet', 'Deployment', 'DaemonSet', 'StatefulSet', 'PersistentVolumeClaim', 'Node', 'Namespace'];
    const byKind = new Map<string, string[]>(order.map((k) => [k, []]));
    for (const c of this.created) byKind.get(c.kind)?.push(c.path);
    byKind.get('Pod')!.push(...paths);
    for (const kind of order) {
      const unique = [...new Set(byKind.get(kind))];
      for (let i = 0; i < unique.length; i += this.opts.concurrency * 4) {
        await Promise.all(
          unique.slice(i, i + this.opts.concurrency * 4).map((p) =>
            this.api.request('DELETE', p, { body: { apiVersion: 'v1', kind: 'DeleteOptions', gracePeriodSeconds: 0 }, timeoutMs: 30_000 }).catch((err: unknown) => {
              if (!(err instanceof KubeApiError && err.statusCode === 404)) this.opts.logger.warn(`cleanup ${p}: ${(err as Error).message}`);
            }),
          ),
        );
      }
    }
    // Give a namespace controller (a real cluster) a moment; where there is none, finish the deletion.
    await new Promise((r) => setTimeout(r, 2_000));
    for (const ns of new Set(this.createdNamespaces)) {
      const obj = await this.getNamespace(ns).catch(() => undefined);
      if (obj?.status?.phase === 'Terminating') await this.finalizeNamespace(obj).catch((err: unknown) => this.opts.logger.warn(`cleanup: finalizing namespace ${ns}: ${(err as Error).message}`));
    }
  }

  /** Stop retrying (shutdown): pending calls reject. */
  shutdown(): void {
    this.stopHeartbeats();
    this.abort.abort(new Error('simulator stopped'));
  }
}
