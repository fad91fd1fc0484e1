import { AppsV1Api, BatchV1Api, CoreV1Api, makeInformer, type Informer, type KubernetesObject, type ObjectCache, type V1Job, type V1Namespace, type V1Node, type V1Pod, type V1ReplicaSet } from '@kubernetes/client-node';
import { loadKubeConfig } from '@heapstream/kube';
import type { Logger } from '@heapstream/observability';
import type { MetadataSource, NodeMeta, PodMeta } from '../core/enrich.js';
import { nodeMetaOf, podMetaOf, type OwnerLookup } from './convert.js';

/*
 * Informer-backed metadata: Pods, Nodes, Namespaces, plus ReplicaSets and Jobs to
 * resolve the owning workload. @heapstream/kube has list/watch but no informer cache
 * yet, so this uses @kubernetes/client-node's makeInformer behind MetadataSource.
 * Enrichment reads the cache as it is when a scrape is processed: it is the one input
 * that is not replayed from Kafka (see docs/aggregator.md).
 */

type Cached<T extends KubernetesObject> = Informer<T> & ObjectCache<T>;

export class InformerMetadata implements MetadataSource {
  private readonly pods: Cached<V1Pod>;
  private readonly nodes: Cached<V1Node>;
  private readonly namespaces: Cached<V1Namespace>;
  private readonly replicaSets: Cached<V1ReplicaSet>;
  private readonly jobs: Cached<V1Job>;
  private readonly owners: OwnerLookup;
  private readonly podCache = new WeakMap<V1Pod, PodMeta>();
  private readonly nodeCache = new WeakMap<V1Node, NodeMeta>();

  constructor(kubeconfigPath: string | undefined, private readonly logger: Logger) {
    const kc = loadKubeConfig(kubeconfigPath ? { kubeconfigPath } : {});
    const core = kc.makeApiClient(CoreV1Api);
    const apps = kc.makeApiClient(AppsV1Api);
    const batch = kc.makeApiClient(BatchV1Api);
    this.pods = makeInformer(kc, '/api/v1/pods', () => core.listPodForAllNamespaces());
    this.nodes = makeInformer(kc, '/api/v1/nodes', () => core.listNode());
    this.namespaces = makeInformer(kc, '/api/v1/namespaces', () => core.listNamespace());
    this.replicaSets = makeInformer(kc, '/apis/apps/v1/replicasets', () => apps.listReplicaSetForAllNamespaces());
    this.jobs = makeInformer(kc, '/apis/batch/v1/jobs', () => batch.listJobForAllNamespaces());
    this.owners = {
      replicaSet: (ns, name) => this.replicaSets.get(name, ns),
      job: (ns, name) => this.jobs.get(name, ns),
    };
  }

  private all(): Cached<KubernetesObject>[] {
    return [this.pods, this.nodes, this.namespaces, this.replicaSets, this.jobs] as Cached<KubernetesObject>[];
  }

  async start(): Promise<void> {
    for (const inf of this.all()) {
      inf.on('error', (err) => {
        this.logger.warn({ err }, 'informer error; restarting in 5 s');
        setTimeout(() => inf.start().catch(() => undefined), 5_000).unref();
      });
    }
    await Promise.all(this.all().map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.all().map((i) => i.stop().catch(() => undefined)));
  }

  pod(namespace: string, name: string): PodMeta | undefined {
    const pod = this.pods.get(name, namespace);
    if (!pod) return undefined;
    let meta = this.podCache.get(pod);
    if (!meta) this.podCache.set(pod, (meta = podMetaOf(pod, this.owners)));
    return meta;
  }

  node(name: string): NodeMeta | undefined {
    const node = this.nodes.get(name);
    if (!node) return undefined;
    let meta = this.nodeCache.get(node);
    if (!meta) this.nodeCache.set(node, (meta = nodeMetaOf(node)));
    return meta;
  }

  namespaceUid(name: string): string | undefined {
    return this.namespaces.get(name)?.metadata?.uid;
  }
}

/** Metadata when enrichment is on and a cluster is reachable by config; undefined runs Kafka-only. */
export function createMetadata(config: { HEAPSTREAM_ENRICH: boolean; KUBECONFIG?: string | undefined }, logger: Logger): { source: MetadataSource; start(): Promise<void>; stop(): Promise<void> } | undefined {
  if (!config.HEAPSTREAM_ENRICH) return undefined;
  if (!config.KUBECONFIG && process.env.KUBERNETES_SERVICE_HOST === undefined) {
    logger.warn('HEAPSTREAM_ENRICH is on but there is no KUBECONFIG and no in-cluster service account: running without enrichment');
    return undefined;
  }
  const source = new InformerMetadata(config.KUBECONFIG, logger);
  return { source, start: () => source.start(), stop: () => source.stop() };
}
