/**
 * Every tag key heapstream writes. Heapster's names are kept so that Heapster-era
 * Grafana dashboards keep working; the rest are additions for modern kubelet data.
 */
export const TAGS = {
  /** Entity type: node, pod, ... (written from MetricPoint.entityType). */
  type: 'type',
  clusterName: 'cluster_name',
  nodename: 'nodename',
  hostname: 'hostname',
  hostId: 'host_id',
  namespaceName: 'namespace_name',
  namespaceId: 'namespace_id',
  podName: 'pod_name',
  podId: 'pod_id',
  containerName: 'container_name',
  containerBaseImage: 'container_base_image',
  /** Pod labels joined as `k:v,k:v`. */
  labels: 'labels',
  /** Which filesystem: `/`, `logs`, `imagefs`, `containerfs` or `Volume:<name>`. */
  resourceId: 'resource_id',
  /** Additions. */
  interface: 'interface',
  pvcName: 'pvc_name',
  acceleratorId: 'accelerator_id',
  acceleratorMake: 'accelerator_make',
  acceleratorModel: 'accelerator_model',
  workloadKind: 'workload_kind',
  workloadName: 'workload_name',
  /** Event-derived counters: the Event's reason and type (Normal, Warning). */
  reason: 'reason',
  eventType: 'event_type',
} as const;

export type TagKey = (typeof TAGS)[keyof typeof TAGS];

/**
 * Never written as InfluxDB tags by default: unique per pod/host, they made Heapster's
 * series count grow without bound. Heapster dropped the same four; `labels` joins
 * them here because one label change makes a new series.
 */
export const HIGH_CARDINALITY_TAGS: readonly TagKey[] = [TAGS.podId, TAGS.namespaceId, TAGS.hostname, TAGS.hostId, TAGS.labels];

/** resource_id values for filesystems that are not volumes. */
export const RESOURCE_IDS = {
  root: '/',
  logs: 'logs',
  imageFs: 'imagefs',
  containerFs: 'containerfs',
} as const;

export const volumeResourceId = (name: string): string => `Volume:${name}`;
