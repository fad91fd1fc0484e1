import { hashInts, hashString, Prng } from './random.js';

/** The simulated cluster: static node specs plus an append-only history of pod sets. */

export type WorkloadKind = 'Deployment' | 'DaemonSet' | 'StatefulSet';

export interface ResourceList {
  cpuMillis?: number;
  memoryBytes?: number;
}

export interface ContainerTemplate {
  name: string;
  image: string;
  cpuMeanNanoCores: number;
  memMeanBytes: number;
  requests: ResourceList;
  limits: ResourceList;
}

export interface Workload {
  kind: WorkloadKind;
  namespace: string;
  name: string;
  /** For Deployments: the current ReplicaSet name (`<deployment>-<pod-template-hash>`). */
  replicaSetName?: string;
  podTemplateHash?: string;
  labels: Record<string, string>;
  containers: ContainerTemplate[];
  /** Volume mix of this workload's pods. */
  configMap?: string;
  emptyDir: boolean;
  pvc: boolean;
  replicas: number;
  /** Network mean bytes per second per pod. */
  rxMeanBytesPerSecond: number;
  txMeanBytesPerSecond: number;
}

export interface Termination {
  reason: 'OOMKilled' | 'Error' | 'Completed';
  exitCode: number;
  startedMs: number;
  finishedMs: number;
  containerId: string;
}

export interface ContainerState {
  name: string;
  key: number;
  startMs: number;
  restartCount: number;
  containerId: string;
  template: ContainerTemplate;
  lastTermination?: Termination;
}

export interface VolumeState {
  name: string;
  kind: 'projected' | 'configMap' | 'emptyDir' | 'pvc';
  /** PVC claim name (kind pvc). */
  claimName?: string;
  /** Volume whose stats carry only time and name (seen in real kubelets). */
  metricsMissing: boolean;
}

export interface PodState {
  name: string;
  namespace: string;
  uid: string;
  key: number;
  workload: Workload;
  /** Index within a StatefulSet (for pod names and PVCs). */
  ordinal?: number;
  createdMs: number;
  startMs: number;
  containers: readonly ContainerState[];
  volumes: readonly VolumeState[];
  /** CPU nanoseconds and page faults of container instances that were restarted away. */
  priorCpuNs: number;
  priorPageFaults: number;
}

export interface NodeVariant {
  /** Old-kubelet shape (like the telegraf fixture): no interfaces, rlimit, inodes or fs times. */
  legacy: boolean;
  /** A `runtime` system container (dockershim or --runtime-cgroups). */
  runtimeContainer: boolean;
  /** Extra interfaces after eth0; `sit0` reports zeros. */
  extraInterfaces: string[];
  /** Network receive errors grow on this node. */
  noisyNic: boolean;
}

export interface NodeSpec {
  index: number;
  name: string;
  address: string;
  port: number;
  key: number;
  bootMs: number;
  kubeletStartMs: number;
  runtimeStartMs: number;
  /** Housekeeping phase: sample times are phaseMs + k * interval. */
  phaseMs: number;
  cpuCores: number;
  memoryBytes: number;
  fsCapacityBytes: number;
  imageFsCapacityBytes: number;
  maxPods: number;
  zone: string;
  instanceType: string;
  labels: Record<string, string>;
  variant: NodeVariant;
}

export interface NodeEpoch {
  fromMs: number;
  pods: readonly PodState[];
  /** Cumulative CPU of pods removed from this node (keeps the `pods` cgroup monotonic). */
  retiredCpuNs: number;
}

export interface NodeState {
  spec: NodeSpec;
  /** Non-empty, ordered by fromMs. */
  history: NodeEpoch[];
}

export interface ClusterShape {
  seed: number;
  namePrefix: string;
  nodes: number;
  podsPerNode: number;
  containersPerPod: { min: number; max: number };
  addressOctet: number;
  kubeletPort: number;
  legacyFraction: number;
  epochMs: number;
}

export interface ClusterModel {
  shape: ClusterShape;
  namespaces: string[];
  workloads: Workload[];
  nodes: NodeState[];
}

const APP_NAMES = ['web', 'api', 'cache', 'worker', 'ingest', 'auth', 'search', 'billing', 'queue', 'frontend', 'gateway', 'reports'];
const SIDECARS = ['istio-proxy', 'log-shipper', 'config-reloader', 'metrics-exporter'];
const ZONES = ['zone-a', 'zone-b', 'zone-c'];
const INSTANCE_TYPES: Array<{ name: string; cores: number; memGiB: number }> = [
  { name: 'sim.large', cores: 2, memGiB: 8 },
  { name: 'sim.xlarge', cores: 4, memGiB: 16 },
  { name: 'sim.2xlarge', cores: 8, memGiB: 32 },
];
const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

/** 127.<octet>.x.y for node `index`, skipping .0 and .255 hosts. */
export function nodeAddress(octet: number, index: number): string {
  return `127.${octet}.${Math.floor(index / 250)}.${(index % 250) + 1}`;
}

export function nodeName(prefix: string, index: number): string {
  return `${prefix}-node-${String(index).padStart(4, '0')}`;
}

function containerId(rng: Prng): string {
  return `containerd://${rng.hex(64)}`;
}

/** Deterministic per-(seed, purpose) PRNG. */
export function rngFor(seed: number, ...parts: Array<number | string>): Prng {
  return new Prng(hashInts(seed, ...parts.map((p) => (typeof p === 'number' ? p : hashString(p)))));
}

function makeContainers(rng: Prng, appName: string, count: number): ContainerTemplate[] {
  const out: ContainerTemplate[] = [];
  for (let i = 0; i < count; i++) {
    const name = i === 0 ? appName : (SIDECARS[(i - 1) % SIDECARS.length] ?? 'sidecar') + (i > SIDECARS.length ? `-${i}` : '');
    const idle = rng.chance(0.05);
    const cpuMeanNanoCores = idle ? 0 : Math.round(rng.range(2e6, i === 0 ? 400e6 : 50e6));
    const memMeanBytes = Math.round(rng.range(8 * MiB, i === 0 ? 512 * MiB : 96 * MiB));
    const qos = rng.next();
    const requests: ResourceList = {};
    const limits: ResourceList = {};
    if (qos < 0.8) {
      requests.cpuMillis = Math.max(10, Math.round(cpuMeanNanoCores / 1e6 / 10) * 10 || 10);
      requests.memoryBytes = Math.ceil(memMeanBytes / (16 * MiB)) * 16 * MiB;
    }
    if (qos < 0.6) {
      limits.cpuMillis = (requests.cpuMillis ?? 100) * 4;
      limits.memoryBytes = Math.ceil((memMeanBytes * 2) / (64 * MiB)) * 64 * MiB;
    }
    out.push({
      name,
      image: i === 0 ? `registry.local/${appName}:1.${rng.int(20)}.${rng.int(10)}` : `registry.local/${name}:v${1 + rng.int(3)}`,
      cpuMeanNanoCores,
      memMeanBytes,
      requests,
      limits,
    });
  }
  return out;
}

function containerCount(rng: Prng, shape: ClusterShape): number {
  const { min, max } = shape.containersPerPod;
  return min + rng.int(max - min + 1);
}

function buildNodeSpec(shape: ClusterShape, index: number): NodeSpec {
  const rng = rngFor(shape.seed, 'node', index);
  const type = rng.pick(INSTANCE_TYPES);
  const bootMs = shape.epochMs - Math.round(rng.range(3600e3, 5 * 86400e3) / 1000) * 1000;
  const legacy = rng.chance(shape.legacyFraction);
  const extra: string[] = [];
  if (!legacy && rng.chance(0.3)) extra.push('sit0');
  if (!legacy && rng.chance(0.2)) extra.push('cni0');
  const name = nodeName(shape.namePrefix, index);
  const zone = ZONES[index % ZONES.length] ?? 'zone-a';
  return {
    index,
    name,
    address: nodeAddress(shape.addressOctet, index),
    port: shape.kubeletPort,
    key: hashInts(shape.seed, 0x6e6f6465, index),
    bootMs,
    kubeletStartMs: bootMs + 20_000,
    runtimeStartMs: bootMs + 9_000,
    phaseMs: rng.int(15) * 1000,
    cpuCores: type.cores,
    memoryBytes: type.memGiB * GiB - 300 * MiB,
    fsCapacityBytes: (50 + 10 * rng.int(40)) * GiB,
    imageFsCapacityBytes: 0,
    maxPods: 110,
    zone,
    instanceType: type.name,
    labels: {
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/hostname': name,
      'node.kubernetes.io/instance-type': type.name,
      'topology.kubernetes.io/zone': zone,
      'topology.kubernetes.io/region': 'sim-region-1',
      'heapstream.io/simulated': 'true',
      // Which simulator run the node belongs to, so a scraper can select one run's nodes.
      'heapstream.io/sim-prefix': shape.namePrefix,
    },
    variant: {
      legacy,
      runtimeContainer: legacy || rng.chance(0.5),
      extraInterfaces: extra,
      noisyNic: rng.chance(0.05),
    },
  };
}

export interface NewPodInput {
  workload: Workload;
  ordinal?: number;
  createdMs: number;
  rng: Prng;
  shapeSeed: number;
}

/** A fresh pod of `workload`, its containers starting a few seconds after creation. */
export function newPod({ workload, ordinal, createdMs, rng, shapeSeed }: NewPodInput): PodState {
  let name: string;
  if (workload.kind === 'Deployment') name = `${workload.replicaSetName}-${rng.suffix(5)}`;
  else if (workload.kind === 'StatefulSet') name = `${workload.name}-${ordinal ?? 0}`;
  else name = `${workload.name}-${rng.suffix(5)}`;
  const uid = rng.uuid();
  const startMs = createdMs + 1000 * (1 + rng.int(3));
  const key = hashInts(shapeSeed, hashString(uid));
  const containers = workload.containers.map((template, i) => ({
    name: template.name,
    key: hashInts(key, i + 1),
    startMs: startMs + 1000 * (1 + rng.int(4)),
    restartCount: 0,
    containerId: containerId(rng),
    template,
  }));
  const volumes: VolumeState[] = [
    { name: `kube-api-access-${rng.suffix(5)}`, kind: 'projected', metricsMissing: false },
  ];
  if (workload.configMap) volumes.push({ name: 'config', kind: 'configMap', metricsMissing: rng.chance(0.05) });
  if (workload.emptyDir) volumes.push({ name: 'scratch', kind: 'emptyDir', metricsMissing: false });
  if (workload.pvc) volumes.push({ name: 'data', kind: 'pvc', claimName: `data-${name}`, metricsMissing: false });
  return {
    name,
    namespace: workload.namespace,
    uid,
    key,
    workload,
    ordinal,
    createdMs,
    startMs,
    containers,
    volumes,
    priorCpuNs: 0,
    priorPageFaults: 0,
  };
}

/** A restarted copy of `pod` where container `index` died at `atMs` and started again. */
export function restartContainer(
  pod: PodState,
  index: number,
  atMs: number,
  reason: Termination['reason'],
  rng: Prng,
  cpuNsAtDeath: number,
  pageFaultsAtDeath: number,
): PodState {
  const containers = pod.containers.map((c, i) => {
    if (i !== index) return c;
    return {
      ...c,
      startMs: atMs,
      restartCount: c.restartCount + 1,
      containerId: containerId(rng),
      lastTermination: {
        reason,
        exitCode: reason === 'OOMKilled' ? 137 : reason === 'Error' ? 1 : 0,
        startedMs: c.startMs,
        finishedMs: atMs,
        containerId: c.containerId,
      },
    };
  });
  return {
    ...pod,
    containers,
    priorCpuNs: pod.priorCpuNs + cpuNsAtDeath,
    priorPageFaults: pod.priorPageFaults + pageFaultsAtDeath,
  };
}

/**
 * The initial cluster, a pure function of the shape. Each node carries
 * `podsPerNode` pods: DaemonSet pods first (one per node), then Deployment and
 * StatefulSet pods spread across nodes.
 */
export function buildCluster(shape: ClusterShape): ClusterModel {
  const rng = rngFor(shape.seed, 'cluster');
  const prefix = shape.namePrefix;
  const systemNs = `${prefix}-system`;
  const appNamespaces = [`${prefix}-apps`, `${prefix}-data`, `${prefix}-batch`];
  const namespaces = [systemNs, ...appNamespaces];
  const workloads: Workload[] = [];
  const specs = Array.from({ length: shape.nodes }, (_, i) => buildNodeSpec(shape, i));
  const podsByNode: PodState[][] = specs.map(() => []);

  const daemonSets = Math.min(2, shape.podsPerNode);
  for (let d = 0; d < daemonSets; d++) {
    const app = d === 0 ? 'node-agent' : 'log-collector';
    workloads.push({
      kind: 'DaemonSet',
      namespace: systemNs,
      name: app,
      labels: { 'app.kubernetes.io/name': app, 'app.kubernetes.io/part-of': 'sim-system' },
      containers: makeContainers(rng, app, containerCount(rng, shape)),
      configMap: d === 1 ? `${app}-config` : undefined,
      emptyDir: false,
      pvc: false,
      replicas: shape.nodes,
      rxMeanBytesPerSecond: rng.range(1e3, 50e3),
      txMeanBytesPerSecond: rng.range(1e3, 200e3),
    });
  }

  const perNodeOther = shape.podsPerNode - daemonSets;
  let remaining = perNodeOther * shape.nodes;
  let serial = 0;
  while (remaining > 0) {
    const stateful = rng.chance(0.15);
    const app = `${APP_NAMES[serial % APP_NAMES.length]}${serial >= APP_NAMES.length ? `-${Math.floor(serial / APP_NAMES.length)}` : ''}`;
    serial++;
    const namespace = rng.pick(appNamespaces);
    const replicas = Math.min(remaining, stateful ? 1 + rng.int(5) : 1 + rng.int(Math.max(2, Math.min(40, Math.ceil(shape.nodes / 2)))));
    remaining -= replicas;
    const hash = rng.suffix(10);
    workloads.push({
      kind: stateful ? 'StatefulSet' : 'Deployment',
      namespace,
      name: app,
      replicaSetName: stateful ? undefined : `${app}-${hash}`,
      podTemplateHash: stateful ? undefined : hash,
      labels: { 'app.kubernetes.io/name': app, 'app.kubernetes.io/instance': `${app}-${namespace}` },
      containers: makeContainers(rng, app, containerCount(rng, shape)),
      configMap: rng.chance(0.5) ? `${app}-config` : undefined,
      emptyDir: rng.chance(0.3),
      pvc: stateful,
      replicas,
      rxMeanBytesPerSecond: rng.range(1e3, 2e6),
      txMeanBytesPerSecond: rng.range(1e3, 2e6),
    });
  }

  const epochStart = shape.epochMs;
  const created = (r: Prng) => epochStart - Math.round(r.range(600e3, 3 * 86400e3) / 1000) * 1000;
  for (const w of workloads.filter((x) => x.kind === 'DaemonSet')) {
    for (let n = 0; n < shape.nodes; n++) {
      const r = rngFor(shape.seed, 'pod', w.name, n);
      podsByNode[n]!.push(newPod({ workload: w, createdMs: Math.max(specs[n]!.kubeletStartMs, created(r)), rng: r, shapeSeed: shape.seed }));
    }
  }
  let cursor = 0;
  for (const w of workloads.filter((x) => x.kind !== 'DaemonSet')) {
    for (let i = 0; i < w.replicas; i++) {
      // Spread replicas: next node with a free slot, starting from a rotating cursor.
      let n = cursor;
      while (podsByNode[n]!.length >= shape.podsPerNode) n = (n + 1) % shape.nodes;
      cursor = (n + 1) % shape.nodes;
      const r = rngFor(shape.seed, 'pod', w.namespace, w.name, i);
      const pod = newPod({
        workload: w,
        ordinal: w.kind === 'StatefulSet' ? i : undefined,
        createdMs: Math.max(specs[n]!.kubeletStartMs, created(r)),
        rng: r,
        shapeSeed: shape.seed,
      });
      podsByNode[n]!.push(pod);
    }
  }
  const nodes = specs.map((spec, n) => ({
    spec,
    history: [{ fromMs: Number.NEGATIVE_INFINITY, pods: podsByNode[n]!, retiredCpuNs: 0 }],
  }));
  return { shape, namespaces, workloads, nodes };
}

/** The pods a node had at `atMs`. */
export function epochAt(node: NodeState, atMs: number): NodeEpoch {
  const h = node.history;
  for (let i = h.length - 1; i >= 0; i--) {
    const e = h[i]!;
    if (e.fromMs <= atMs) return e;
  }
  return h[0]!;
}
