import type { EntityType } from '@heapstream/contracts';

export type MetricKind = 'gauge' | 'cumulative';
/** Fixed forever per metric: InfluxDB rejects a field whose type changes. */
export type ValueType = 'int' | 'float';

/** The summaries of a closed window that are stored, as `<field>_<summary>` fields. */
export type WindowField = 'mean' | 'min' | 'max' | 'sum' | 'last' | 'count';
/**
 * What a gauge's or rate's window stores by default: mean (every dashboard panel) and max
 * (the minute's peak, which a mean hides: documented in docs/storage-schema.md). The
 * topic's window also has min, sum, count and last; each stored field costs InfluxDB a
 * value per series per window, so only what something reads is stored.
 */
export const DEFAULT_WINDOW_FIELDS: readonly WindowField[] = ['mean', 'max'];
/** `heapstream top --since` shows min/avg/max of these. */
const TOP_WINDOW_FIELDS: readonly WindowField[] = ['mean', 'min', 'max'];
/**
 * Requests, limits and capacities change when a pod or node is replaced, not within a
 * minute: the mean is the value, and min and max would repeat it.
 */
const SPEC_WINDOW_FIELDS: readonly WindowField[] = ['mean'];

export interface MetricDef {
  readonly name: string;
  readonly unit: string;
  readonly kind: MetricKind;
  readonly valueType: ValueType;
  readonly entities: readonly EntityType[];
  readonly description: string;
  /** Extra tag keys that tell series of one entity apart (e.g. resource_id). */
  readonly extraTags?: readonly string[];
  /** For `_rate` metrics: the cumulative metric it is derived from. */
  readonly rateOf?: string;
  /** Not in Heapster; added for modern kubelet data. */
  readonly addition?: true;
  /** Stored window summaries when not DEFAULT_WINDOW_FIELDS. */
  readonly windowFields?: readonly WindowField[];
}

const CONTAINERS: EntityType[] = ['node', 'sys_container', 'pod', 'pod_container'];
const SUMMED: EntityType[] = ['node', 'sys_container', 'pod', 'pod_container', 'workload', 'ns', 'cluster'];
const SPEC: EntityType[] = ['pod', 'pod_container', 'node', 'workload', 'ns', 'cluster'];
const NET: EntityType[] = ['node', 'pod'];
const NET_SUMMED: EntityType[] = ['node', 'pod', 'workload', 'ns', 'cluster'];
const FS_ENTITIES: EntityType[] = ['node', 'sys_container', 'pod', 'pod_container'];
const NODE_CLUSTER: EntityType[] = ['node', 'cluster'];

const g = (name: string, unit: string, valueType: ValueType, entities: EntityType[], description: string, more: Partial<MetricDef> = {}): MetricDef => ({
  name, unit, kind: 'gauge', valueType, entities, description, ...more,
});
const c = (name: string, unit: string, entities: EntityType[], description: string, more: Partial<MetricDef> = {}): MetricDef => ({
  name, unit, kind: 'cumulative', valueType: 'int', entities, description, ...more,
});
const rate = (of: string, unit: string, entities: EntityType[], description: string, more: Partial<MetricDef> = {}): MetricDef =>
  g(`${of}_rate`, unit, 'float', entities, description, { rateOf: of, ...more });

const spec = { windowFields: SPEC_WINDOW_FIELDS };
/** Windows of metrics no dashboard, alert or documented query reads yet: their mean only. */
const unread = { windowFields: SPEC_WINDOW_FIELDS };

// prettier-ignore
export const METRICS: readonly MetricDef[] = [
  c('uptime', 'ms', CONTAINERS, 'time since the entity started'),

  c('cpu/usage', 'ns', CONTAINERS, 'cumulative CPU time over all cores'),
  rate('cpu/usage', 'millicores', SUMMED, 'CPU usage; from the cpu/usage delta between two samples (Heapster wrote int; float here)', { windowFields: TOP_WINDOW_FIELDS }),
  g('cpu/usage_nano_cores', 'nanocores', 'int', CONTAINERS, "the kubelet's own usage rate (usageNanoCores); a cross-check, may be stale", { addition: true }),
  g('cpu/request', 'millicores', 'int', SPEC, 'CPU request from the pod spec', spec),
  g('cpu/limit', 'millicores', 'int', SPEC, 'CPU limit from the pod spec', spec),

  g('memory/usage', 'bytes', 'int', SUMMED, 'memory usage including page cache'),
  g('memory/working_set', 'bytes', 'int', SUMMED, 'working set: what the OOM killer and kubectl top look at', { windowFields: TOP_WINDOW_FIELDS }),
  g('memory/rss', 'bytes', 'int', CONTAINERS, 'anonymous and swap cache memory'),
  g('memory/available', 'bytes', 'int', CONTAINERS, 'memory available before hitting the limit or node capacity', { addition: true }),
  c('memory/page_faults', 'count', CONTAINERS, 'page faults'),
  rate('memory/page_faults', 'faults/s', CONTAINERS, 'page faults per second'),
  c('memory/major_page_faults', 'count', CONTAINERS, 'major page faults'),
  rate('memory/major_page_faults', 'faults/s', CONTAINERS, 'major page faults per second'),
  g('memory/request', 'bytes', 'int', SPEC, 'memory request from the pod spec', spec),
  g('memory/limit', 'bytes', 'int', SPEC, 'memory limit from the pod spec', spec),

  g('swap/usage', 'bytes', 'int', CONTAINERS, 'swap in use', { addition: true }),
  g('swap/available', 'bytes', 'int', CONTAINERS, 'swap still available', { addition: true }),

  c('network/rx', 'bytes', NET, 'bytes received on the default interface'),
  rate('network/rx', 'bytes/s', NET_SUMMED, 'bytes received per second'),
  c('network/tx', 'bytes', NET, 'bytes sent on the default interface'),
  rate('network/tx', 'bytes/s', NET_SUMMED, 'bytes sent per second'),
  c('network/rx_errors', 'count', NET, 'receive errors on the default interface'),
  rate('network/rx_errors', 'errors/s', NET_SUMMED, 'receive errors per second'),
  c('network/tx_errors', 'count', NET, 'transmit errors on the default interface'),
  rate('network/tx_errors', 'errors/s', NET_SUMMED, 'transmit errors per second'),

  // Per interface: separate names so that summing network/rx never double counts.
  ...(['rx', 'tx', 'rx_errors', 'tx_errors'] as const).flatMap((m) => {
    const unit = m.endsWith('errors') ? 'count' : 'bytes';
    const more = { extraTags: ['interface'], addition: true as const };
    return [
      c(`network/interface_${m}`, unit, NET, `${m} on one interface`, more),
      rate(`network/interface_${m}`, `${unit === 'count' ? 'errors' : 'bytes'}/s`, NET, `${m} per second on one interface`, more),
    ];
  }),

  ...([
    ['usage', 'bytes', 'bytes used', DEFAULT_WINDOW_FIELDS],
    ['limit', 'bytes', 'filesystem capacity', SPEC_WINDOW_FIELDS],
    ['available', 'bytes', 'bytes available', DEFAULT_WINDOW_FIELDS],
    ['inodes', 'count', 'inodes in total', SPEC_WINDOW_FIELDS],
    ['inodes_free', 'count', 'free inodes', DEFAULT_WINDOW_FIELDS],
  ] as const).map(([m, unit, d, windowFields]) => g(`filesystem/${m}`, unit, 'int', FS_ENTITIES, `${d}; resource_id: /, logs, imagefs, containerfs or Volume:<name>`, { extraTags: ['resource_id'], windowFields })),
  g('filesystem/inodes_used', 'count', 'int', FS_ENTITIES, 'inodes used', { extraTags: ['resource_id'], addition: true }),

  g('ephemeral_storage/usage', 'bytes', 'int', ['pod'], 'local ephemeral storage used by the pod (rootfs, logs, emptyDir)'),
  // The rest of the kubelet's pod ephemeral-storage block (the OpenTelemetry kubeletstats
  // receiver's k8s.pod.filesystem.available and .capacity): what an eviction looks at.
  g('ephemeral_storage/available', 'bytes', 'int', ['pod'], 'bytes available on the filesystem holding the pod\'s ephemeral storage', { addition: true, ...unread }),
  g('ephemeral_storage/capacity', 'bytes', 'int', ['pod'], 'capacity of the filesystem holding the pod\'s ephemeral storage', { addition: true, ...spec }),
  g('ephemeral_storage/inodes', 'count', 'int', ['pod'], 'inodes of the filesystem holding the pod\'s ephemeral storage', { addition: true, ...spec }),
  g('ephemeral_storage/inodes_free', 'count', 'int', ['pod'], 'free inodes of the filesystem holding the pod\'s ephemeral storage', { addition: true, ...unread }),
  g('ephemeral_storage/inodes_used', 'count', 'int', ['pod'], 'inodes used by the pod\'s ephemeral storage', { addition: true, ...unread }),
  g('ephemeral_storage/request', 'bytes', 'int', SPEC, 'ephemeral-storage request from the pod spec', spec),
  g('ephemeral_storage/limit', 'bytes', 'int', SPEC, 'ephemeral-storage limit from the pod spec', spec),

  ...(['cpu', 'memory', 'ephemeral_storage'] as const).flatMap((r) => {
    const unit = r === 'cpu' ? 'millicores' : 'bytes';
    return [
      g(`${r}/node_capacity`, unit, 'int', NODE_CLUSTER, `node ${r} capacity`, spec),
      g(`${r}/node_allocatable`, unit, 'int', NODE_CLUSTER, `node ${r} allocatable`, spec),
      g(`${r}/node_utilization`, 'ratio', 'float', NODE_CLUSTER, `${r} usage / allocatable`),
      g(`${r}/node_reservation`, 'ratio', 'float', NODE_CLUSTER, `${r} requests / allocatable`),
    ];
  }),

  g('accelerator/memory_total', 'bytes', 'int', ['pod_container'], 'accelerator memory', { extraTags: ['accelerator_id', 'accelerator_make', 'accelerator_model'], ...spec }),
  g('accelerator/memory_used', 'bytes', 'int', ['pod_container'], 'accelerator memory in use', { extraTags: ['accelerator_id', 'accelerator_make', 'accelerator_model'] }),
  g('accelerator/duty_cycle', 'percent', 'int', ['pod_container'], 'percent of time the accelerator was busy', { extraTags: ['accelerator_id', 'accelerator_make', 'accelerator_model'] }),

  g('process/count', 'count', 'int', ['node', 'pod'], 'processes running (node: rlimit.curproc)', { addition: true }),
  g('process/max', 'count', 'int', ['node'], 'maximum number of processes (rlimit.maxpid)', { addition: true, ...spec }),

  // Changes a few times a day at most: the restarts panels read the windows' mean.
  g('restart_count', 'count', 'int', ['pod_container'], 'container restarts, from the pod status', spec),

  g(
    'event_occurrences', 'count', 'int', ['cluster', 'ns', 'workload'],
    'Kubernetes Event occurrences by reason and type, windows only: each occurrence is a sample of 1, so a window\'s sum (= count) is the number of occurrences',
    // Each occurrence is a 1: the sum is the count, and mean, min and max are always 1.
    { extraTags: ['reason', 'event_type'], addition: true, windowFields: ['sum'] },
  ),
];

/** The event-derived counter the aggregator computes from the event topic. */
export const EVENT_OCCURRENCES_METRIC = 'event_occurrences';

export const windowFieldsOf = (def: MetricDef): readonly WindowField[] => def.windowFields ?? DEFAULT_WINDOW_FIELDS;

const BY_NAME = new Map(METRICS.map((m) => [m.name, m]));

export function findMetric(name: string): MetricDef | undefined {
  return BY_NAME.get(name);
}

/** The metric definition; throws for a name not in the catalogue (a programming error). */
export function metric(name: string): MetricDef {
  const def = BY_NAME.get(name);
  if (!def) throw new Error(`metric ${name} is not in the catalogue`);
  return def;
}

/** `cpu/usage_rate` -> ['cpu', 'usage_rate']; `uptime` -> ['uptime', 'value'] (Heapster's withfields split). */
export function splitMetricName(name: string): [measurement: string, field: string] {
  const slash = name.indexOf('/');
  return slash < 0 ? [name, 'value'] : [name.slice(0, slash), name.slice(slash + 1)];
}
