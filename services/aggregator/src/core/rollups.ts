import { rollupKey, type EntityType, type MetricPoint } from '@heapstream/contracts';
import { findMetric, TAGS } from '@heapstream/metric-model';

/*
 * Hierarchy rollups: pods -> workload and namespace, nodes -> cluster, as sums in one
 * rollup cycle (a fixed event-time bucket): a sum, never a mean, and `members` says how
 * many pods or nodes contributed. Each node scrape contributes its members' sum and
 * count per rollup series; a node scraped twice in a cycle counts once (its latest
 * scrape), and only one entry per node is kept, not one per pod. Containers -> pod is done where the pod has no
 * value of its own (requests and limits, see enrich.ts): the kubelet's pod-level
 * usage includes the pod's own cgroup overhead, so it beats a sum of containers.
 */

export interface RollupTarget {
  /** Record key on the output topics, e.g. `ns/default`, `cluster`. */
  owner: string;
  entityType: EntityType;
  tags: Record<string, string>;
}

/** Ratios are not summable: computed from the summed numerator and denominator instead. */
const RATIOS: Record<string, [numerator: string, denominator: string]> = {
  'cpu/node_utilization': ['cpu/usage_rate', 'cpu/node_allocatable'],
  'memory/node_utilization': ['memory/working_set', 'memory/node_allocatable'],
  'cpu/node_reservation': ['cpu/request', 'cpu/node_allocatable'],
  'memory/node_reservation': ['memory/request', 'memory/node_allocatable'],
};

const summables = new Map<EntityType, Map<string, boolean>>();

function summable(metric: string, target: EntityType): boolean {
  let byMetric = summables.get(target);
  if (!byMetric) summables.set(target, (byMetric = new Map()));
  let yes = byMetric.get(metric);
  if (yes === undefined) byMetric.set(metric, (yes = isSummable(metric, target)));
  return yes;
}

function isSummable(metric: string, target: EntityType): boolean {
  const def = findMetric(metric);
  return def !== undefined && def.kind === 'gauge' && def.entities.includes(target) && !def.extraTags && !(metric in RATIOS) && !metric.endsWith('_utilization') && !metric.endsWith('_reservation');
}

/**
 * Tag on cross-node rollups when the raw topic has several partitions: each partition
 * sums only its own nodes, and the tag keeps the partial sums apart (instead of one
 * overwriting the other in storage) until a merge stage exists; sum over it to total.
 */
export const SHARD_TAG = 'shard';

const sharded = (tags: Record<string, string>, shard: string | undefined) => (shard === undefined ? tags : { ...tags, [SHARD_TAG]: shard });

/** Where a native point contributes, if anywhere. Pure. */
export function rollupTargets(p: MetricPoint, shard?: string): RollupTarget[] {
  const cluster = p.tags[TAGS.clusterName] ?? '';
  if (p.entityType === 'node') {
    if (!summable(p.metric, 'cluster')) return [];
    return [{ owner: rollupKey('cluster'), entityType: 'cluster', tags: sharded({ [TAGS.clusterName]: cluster }, shard) }];
  }
  if (p.entityType !== 'pod') return [];
  const ns = p.tags[TAGS.namespaceName];
  const pod = p.tags[TAGS.podName];
  if (ns === undefined || pod === undefined) return [];
  const out: RollupTarget[] = [];
  if (summable(p.metric, 'ns')) {
    out.push({ owner: rollupKey('ns', ns), entityType: 'ns', tags: sharded({ [TAGS.clusterName]: cluster, [TAGS.namespaceName]: ns }, shard) });
  }
  const kind = p.tags[TAGS.workloadKind];
  const name = p.tags[TAGS.workloadName];
  if (kind !== undefined && name !== undefined && summable(p.metric, 'workload')) {
    out.push({
      owner: rollupKey('workload', ns, kind, name),
      entityType: 'workload',
      tags: sharded({ [TAGS.clusterName]: cluster, [TAGS.namespaceName]: ns, [TAGS.workloadKind]: kind, [TAGS.workloadName]: name }, shard),
    });
  }
  return out;
}

/** One rollup series in one cycle: each node's latest contribution. */
export interface BucketEntry {
  owner: string;
  metric: string;
  entityType: EntityType;
  tags: Record<string, string>;
  /** node -> [sum, members] of its latest scrape, in first-seen order. */
  byNode: Map<string, [sum: number, members: number]>;
}

/** Pure: the rollup points of one closed cycle for one owner, ratios derived from the sums. */
export function bucketPoints(entries: readonly BucketEntry[], bucketStart: number): MetricPoint[] {
  const points: MetricPoint[] = [];
  const sums = new Map<string, MetricPoint>();
  for (const e of entries) {
    let sum = 0;
    let members = 0;
    for (const [nodeSum, nodeMembers] of e.byNode.values()) {
      sum += nodeSum;
      members += nodeMembers;
    }
    const p: MetricPoint = { metric: e.metric, entityType: e.entityType, tags: e.tags, timestamp: bucketStart, value: sum, members };
    points.push(p);
    sums.set(e.metric, p);
  }
  if (entries[0]?.entityType === 'cluster') {
    for (const [metric, [num, den]] of Object.entries(RATIOS)) {
      const n = sums.get(num);
      const d = sums.get(den);
      if (n && d && d.value > 0) points.push({ ...d, metric, value: n.value / d.value, members: Math.min(n.members ?? 0, d.members ?? 0) });
    }
  }
  return points;
}
