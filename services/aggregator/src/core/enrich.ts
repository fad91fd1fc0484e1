import type { MetricPoint, RawScrape } from '@heapstream/contracts';
import { TAGS } from '@heapstream/metric-model';

/*
 * Enrichment from cluster metadata (Pods, Nodes, Namespaces). The aggregator core only
 * sees this interface; the informer-backed implementation lives in ../enrichment.
 */

export interface Resources {
  /** millicores */
  cpu?: number;
  /** bytes */
  memory?: number;
  /** bytes */
  ephemeralStorage?: number;
}

export interface WorkloadRef {
  kind: string;
  name: string;
}

export interface PodMeta {
  labels: Record<string, string>;
  workload?: WorkloadRef;
  containers: { name: string; requests: Resources; limits: Resources; /** restartCount from the pod status, when it has the container */ restarts?: number }[];
}

export interface NodeMeta {
  capacity: Resources;
  allocatable: Resources;
}

export interface MetadataSource {
  pod(namespace: string, name: string): PodMeta | undefined;
  node(name: string): NodeMeta | undefined;
  namespaceUid(name: string): string | undefined;
}

const RESOURCE_METRICS = [
  ['cpu', 'cpu'],
  ['memory', 'memory'],
  ['ephemeralStorage', 'ephemeral_storage'],
] as const;

/** `k:v,k:v` of the allow-listed labels, sorted; '' when none. */
export function labelsTag(labels: Record<string, string>, allow: ReadonlySet<string>): string {
  return Object.keys(labels)
    .filter((k) => allow.has(k))
    .sort()
    .map((k) => `${k}:${labels[k]}`)
    .join(',');
}

/** Tags added to every pod and pod_container point of a pod. */
export function podExtraTags(meta: PodMeta, allow: ReadonlySet<string>, nsUid: string | undefined): Record<string, string> {
  const extra: Record<string, string> = {};
  const labels = labelsTag(meta.labels, allow);
  if (labels) extra[TAGS.labels] = labels;
  if (meta.workload) {
    extra[TAGS.workloadKind] = meta.workload.kind;
    extra[TAGS.workloadName] = meta.workload.name;
  }
  if (nsUid) extra[TAGS.namespaceId] = nsUid;
  return extra;
}

/** Tag keys of a pod's or container's own points (not of its filesystems, interfaces or accelerators). */
const ENTITY_KEYS: ReadonlySet<string> = new Set([TAGS.clusterName, TAGS.nodename, TAGS.namespaceName, TAGS.podName, TAGS.podId, TAGS.containerName]);
const isPodOrContainerItself = (tags: Record<string, string>): boolean => Object.keys(tags).every((k) => ENTITY_KEYS.has(k));

const ratio = (num: number | undefined, den: number | undefined): number | undefined =>
  num === undefined || den === undefined || den <= 0 ? undefined : num / den;

/**
 * Pure: adds metadata tags to the scrape's points (in place, sharing one tags object per
 * entity), and returns the points metadata alone gives: container and pod requests and
 * limits, their sums on the node, container restart counts, node capacity and
 * allocatable, node utilization and reservation. A container without a limit adds nothing to its pod's and node's limit
 * sums (Heapster's rule); `members` of a pod's limit says how many containers have one.
 * `points` must already include the rate points (utilization needs cpu/usage_rate).
 */
export function enrichScrape(scrape: RawScrape, points: MetricPoint[], source: MetadataSource, allowLabels: ReadonlySet<string>): MetricPoint[] {
  const at = scrape.scrape.finishedAt;
  const extraPoints: MetricPoint[] = [];
  const podExtra = new Map<string, Record<string, string> | undefined>();
  const podKey = (ns: string, pod: string) => `${ns}/${pod}`;

  // Sums of pod requests and limits on the node (requests: reservation's numerator), as
  // Heapster summed them into the node's cpu/request and cpu/limit.
  const sums = { request: { cpu: 0, memory: 0, ephemeralStorage: 0 }, limit: { cpu: 0, memory: 0, ephemeralStorage: 0 } };
  const requested = sums.request;
  const base = { [TAGS.clusterName]: scrape.cluster, [TAGS.nodename]: scrape.node };

  const metas = new Map<string, PodMeta>();
  for (const pod of scrape.pods) {
    const meta = source.pod(pod.namespace, pod.name);
    const key = podKey(pod.namespace, pod.name);
    if (!meta) {
      podExtra.set(key, undefined);
      continue;
    }
    metas.set(key, meta);
    podExtra.set(key, podExtraTags(meta, allowLabels, source.namespaceUid(pod.namespace)));
  }

  // The scrape's points share one tags object per entity; so do their enriched tags, so
  // that everything downstream keyed by the tags object (entity ids, line protocol tag
  // strings, wire grouping) does its work once per entity rather than once per point.
  const enriched = new Map<Record<string, string>, Record<string, string>>();
  /** Enriched tags by pod and container ('' for the pod itself), reused by the request and limit points. */
  const byEntity = new Map<string, Record<string, string>>();
  for (const p of points) {
    if (p.entityType !== 'pod' && p.entityType !== 'pod_container') continue;
    let tags = enriched.get(p.tags);
    if (!tags) {
      const key = podKey(p.tags[TAGS.namespaceName] ?? '', p.tags[TAGS.podName] ?? '');
      const extra = podExtra.get(key);
      enriched.set(p.tags, (tags = extra ? { ...p.tags, ...extra } : p.tags));
      if (isPodOrContainerItself(p.tags)) byEntity.set(`${key}/${p.tags[TAGS.containerName] ?? ''}`, tags);
    }
    p.tags = tags;
  }

  for (const pod of scrape.pods) {
    const key = podKey(pod.namespace, pod.name);
    const meta = metas.get(key);
    if (!meta) continue;
    const podTags: Record<string, string> = { ...base, [TAGS.namespaceName]: pod.namespace, [TAGS.podName]: pod.name, ...podExtra.get(key) };
    if (pod.uid) podTags[TAGS.podId] = pod.uid;
    const tagsOf = (container: string) => {
      let tags = byEntity.get(`${key}/${container}`);
      if (!tags) byEntity.set(`${key}/${container}`, (tags = container ? { ...podTags, [TAGS.containerName]: container } : podTags));
      return tags;
    };
    for (const c of meta.containers) {
      if (c.restarts !== undefined) extraPoints.push({ metric: 'restart_count', entityType: 'pod_container', tags: tagsOf(c.name), timestamp: at, value: c.restarts });
    }
    for (const [field, prefix] of RESOURCE_METRICS) {
      for (const kind of ['request', 'limit'] as const) {
        let sum = 0;
        let members = 0;
        for (const c of meta.containers) {
          const v = (kind === 'request' ? c.requests : c.limits)[field];
          if (v === undefined) continue;
          sum += v;
          members++;
          extraPoints.push({ metric: `${prefix}/${kind}`, entityType: 'pod_container', tags: tagsOf(c.name), timestamp: at, value: v });
        }
        if (members > 0) {
          extraPoints.push({ metric: `${prefix}/${kind}`, entityType: 'pod', tags: tagsOf(''), timestamp: at, value: sum, members });
          sums[kind][field] += sum;
        }
      }
    }
  }

  const node = source.node(scrape.node);
  if (node) {
    const usage: Resources = {};
    for (const p of points) {
      if (p.entityType !== 'node') continue;
      if (p.metric === 'cpu/usage_rate') usage.cpu = p.value;
      else if (p.metric === 'memory/working_set') usage.memory = p.value;
      else if (p.metric === 'filesystem/usage' && p.tags[TAGS.resourceId] === '/') usage.ephemeralStorage = p.value;
    }
    for (const [field, prefix] of RESOURCE_METRICS) {
      const add = (metric: string, value: number | undefined) => {
        if (value !== undefined) extraPoints.push({ metric: `${prefix}/${metric}`, entityType: 'node', tags: base, timestamp: at, value });
      };
      if (field !== 'ephemeralStorage' || sums.request[field] > 0) add('request', sums.request[field]);
      if (field !== 'ephemeralStorage' || sums.limit[field] > 0) add('limit', sums.limit[field]);
      add('node_capacity', node.capacity[field]);
      add('node_allocatable', node.allocatable[field]);
      add('node_utilization', ratio(usage[field], node.allocatable[field]));
      add('node_reservation', ratio(requested[field], node.allocatable[field]));
    }
  }
  return extraPoints;
}

/** Kubernetes resource quantity -> number (cpu in millicores when `milli`), undefined if unparsable. */
export function parseQuantity(q: string | number | undefined, milli = false): number | undefined {
  if (q === undefined) return undefined;
  if (typeof q === 'number') return Math.round(milli ? q * 1000 : q);
  const m = /^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?$/.exec(q.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  if (!Number.isFinite(n)) return undefined;
  const suffix: Record<string, number> = {
    n: 1e-9, u: 1e-6, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
    Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
  };
  const v = n * (m[2] ? suffix[m[2]]! : 1);
  // Kubernetes rounds quantities up to the smallest unit it can express.
  return Math.ceil((milli ? v * 1000 : v) - 1e-9);
}
