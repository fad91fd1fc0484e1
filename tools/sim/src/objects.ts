import { hashString } from './random.js';
import type { ContainerTemplate, NodeSpec, PodState, ResourceList, Workload } from './model.js';

/**
 * Kubernetes objects for the simulated cluster, as plain JSON: Nodes, Pods (also
 * served by each kubelet's `/pods`), their owners and PVCs.
 */

export const SIM_UID_ANNOTATION = 'heapstream.io/sim-uid';
export const SIM_LABEL = 'heapstream.io/simulated';

type Json = Record<string, unknown>;

export function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function cpuQuantity(millis: number): string {
  return millis % 1000 === 0 ? String(millis / 1000) : `${millis}m`;
}

function memQuantity(bytes: number): string {
  const Mi = 1024 * 1024;
  if (bytes % (1024 * Mi) === 0) return `${bytes / (1024 * Mi)}Gi`;
  if (bytes % Mi === 0) return `${bytes / Mi}Mi`;
  return String(bytes);
}

function resources(list: ResourceList): Json | undefined {
  const out: Json = {};
  if (list.cpuMillis !== undefined) out.cpu = cpuQuantity(list.cpuMillis);
  if (list.memoryBytes !== undefined) out.memory = memQuantity(list.memoryBytes);
  return Object.keys(out).length > 0 ? out : undefined;
}

function containerSpec(t: ContainerTemplate): Json {
  const res: Json = {};
  const limits = resources(t.limits);
  const requests = resources(t.requests);
  if (limits) res.limits = limits;
  if (requests) res.requests = requests;
  return { name: t.name, image: t.image, resources: res, imagePullPolicy: 'IfNotPresent' };
}

export function qosClass(w: Workload): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const all = w.containers;
  if (all.every((c) => c.requests.cpuMillis === undefined && c.requests.memoryBytes === undefined && c.limits.cpuMillis === undefined)) return 'BestEffort';
  if (all.every((c) => c.limits.cpuMillis !== undefined && c.limits.memoryBytes !== undefined && c.requests.cpuMillis === c.limits.cpuMillis && c.requests.memoryBytes === c.limits.memoryBytes)) return 'Guaranteed';
  return 'Burstable';
}

/** Selector labels of a workload's pods. */
export function selectorLabels(w: Workload): Record<string, string> {
  return { 'app.kubernetes.io/name': w.labels['app.kubernetes.io/name'] ?? w.name };
}

export function podLabels(pod: PodState): Record<string, string> {
  const w = pod.workload;
  const labels: Record<string, string> = { ...w.labels, [SIM_LABEL]: 'true' };
  if (w.kind === 'Deployment' && w.podTemplateHash) labels['pod-template-hash'] = w.podTemplateHash;
  if (w.kind !== 'Deployment') labels['controller-revision-hash'] = `${w.name}-${(hashString(w.name) % 1e10).toString().padStart(10, '0')}`;
  if (w.kind === 'StatefulSet') labels['statefulset.kubernetes.io/pod-name'] = pod.name;
  return labels;
}

function podTemplate(w: Workload): Json {
  const labels: Record<string, string> = { ...w.labels, [SIM_LABEL]: 'true' };
  if (w.podTemplateHash) labels['pod-template-hash'] = w.podTemplateHash;
  return { metadata: { labels }, spec: { containers: w.containers.map(containerSpec) } };
}

export interface OwnerUids {
  /** uid of the pod's direct controller (ReplicaSet, DaemonSet or StatefulSet). */
  controller?: string;
}

export function podIp(node: NodeSpec, pod: PodState): string {
  return `10.${64 + (node.index >> 8)}.${node.index & 0xff}.${2 + (pod.key % 250)}`;
}

export interface PodObjectOptions {
  uid?: string;
  ownerUid?: string;
  creationMs?: number;
  /** Include status (the kubelet's view); the API create call omits it. */
  withStatus: boolean;
}

export function podObject(pod: PodState, node: NodeSpec, opts: PodObjectOptions): Json {
  const w = pod.workload;
  const metadata: Json = {
    name: pod.name,
    namespace: pod.namespace,
    labels: podLabels(pod),
    annotations: { [SIM_UID_ANNOTATION]: pod.uid },
  };
  if (opts.uid) metadata.uid = opts.uid;
  if (opts.creationMs !== undefined) metadata.creationTimestamp = iso(opts.creationMs);
  const ownerKind = w.kind === 'Deployment' ? 'ReplicaSet' : w.kind;
  const ownerName = w.kind === 'Deployment' ? w.replicaSetName : w.name;
  if (opts.ownerUid) {
    metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: ownerKind, name: ownerName, uid: opts.ownerUid, controller: true, blockOwnerDeletion: true }];
  }
  const volumes: Json[] = pod.volumes.map((v) => {
    switch (v.kind) {
      case 'projected':
        return { name: v.name, projected: { defaultMode: 420, sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }] } };
      case 'configMap':
        return { name: v.name, configMap: { name: w.configMap ?? `${w.name}-config`, defaultMode: 420 } };
      case 'emptyDir':
        return { name: v.name, emptyDir: {} };
      case 'pvc':
        return { name: v.name, persistentVolumeClaim: { claimName: v.claimName } };
    }
  });
  const spec: Json = {
    nodeName: node.name,
    containers: w.containers.map(containerSpec),
    volumes,
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    schedulerName: 'default-scheduler',
    enableServiceLinks: true,
    serviceAccountName: 'default',
    serviceAccount: 'default',
    // Tolerate the node's simulated taints so nothing would evict the pods.
    tolerations: [{ operator: 'Exists' }],
  };
  if (w.kind === 'StatefulSet') {
    spec.hostname = pod.name;
    spec.subdomain = w.name;
  }
  const out: Json = { metadata, spec };
  if (opts.withStatus) out.status = podStatus(pod, node);
  return out;
}

export function podStatus(pod: PodState, node: NodeSpec): Json {
  const readyAt = iso(Math.max(...pod.containers.map((c) => c.startMs), pod.startMs));
  const ip = podIp(node, pod);
  return {
    phase: 'Running',
    conditions: [
      { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: iso(pod.startMs) },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: iso(pod.startMs) },
      { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: readyAt },
      { type: 'ContainersReady', status: 'True', lastProbeTime: null, lastTransitionTime: readyAt },
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: iso(pod.createdMs) },
    ],
    hostIP: node.address,
    hostIPs: [{ ip: node.address }],
    podIP: ip,
    podIPs: [{ ip }],
    startTime: iso(pod.startMs),
    qosClass: qosClass(pod.workload),
    containerStatuses: pod.containers.map((c) => {
      const status: Json = {
        name: c.name,
        state: { running: { startedAt: iso(c.startMs) } },
        lastState: c.lastTermination
          ? {
              terminated: {
                exitCode: c.lastTermination.exitCode,
                reason: c.lastTermination.reason,
                startedAt: iso(c.lastTermination.startedMs),
                finishedAt: iso(c.lastTermination.finishedMs),
                containerID: c.lastTermination.containerId,
              },
            }
          : {},
        ready: true,
        restartCount: c.restartCount,
        image: c.template.image,
        imageID: `${c.template.image.split(':')[0]}@sha256:${(hashString(c.template.image) >>> 0).toString(16).padStart(8, '0').repeat(8)}`,
        containerID: c.containerId,
        started: true,
      };
      return status;
    }),
  };
}

export function nodeObject(spec: NodeSpec): Json {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: spec.name, labels: spec.labels, annotations: { 'node.alpha.kubernetes.io/ttl': '0' } },
    spec: { podCIDR: `10.${64 + (spec.index >> 8)}.${spec.index & 0xff}.0/24`, providerID: `sim://${spec.name}` },
  };
}

export function nodeStatus(spec: NodeSpec, port: number, nowMs: number, readySinceMs: number): Json {
  const capacity = {
    cpu: String(spec.cpuCores),
    memory: `${Math.floor(spec.memoryBytes / 1024)}Ki`,
    'ephemeral-storage': `${Math.floor(spec.fsCapacityBytes / 1024)}Ki`,
    pods: String(spec.maxPods),
    'hugepages-2Mi': '0',
  };
  const allocatable = {
    cpu: `${spec.cpuCores * 1000 - 100}m`,
    memory: `${Math.floor((spec.memoryBytes - 256 * 1024 * 1024) / 1024)}Ki`,
    'ephemeral-storage': `${Math.floor((spec.fsCapacityBytes * 0.9) / 1024)}Ki`,
    pods: String(spec.maxPods),
    'hugepages-2Mi': '0',
  };
  const now = iso(nowMs);
  const since = iso(readySinceMs);
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: now,
    lastTransitionTime: since,
    reason,
    message,
  });
  return {
    capacity,
    allocatable,
    conditions: [
      condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
      condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
      condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
      condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
    ],
    addresses: [
      { type: 'InternalIP', address: spec.address },
      { type: 'Hostname', address: spec.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: port } },
    nodeInfo: {
      machineID: (spec.key >>> 0).toString(16).padStart(8, '0').repeat(4),
      systemUUID: `${(spec.key >>> 0).toString(16).padStart(8, '0')}-0000-4000-8000-${String(spec.index).padStart(12, '0')}`,
      bootID: `${(spec.bootMs / 1000).toString(16).padStart(8, '0').slice(0, 8)}-0000-4000-8000-${String(spec.index).padStart(12, '0')}`,
      kernelVersion: '6.1.0-sim',
      osImage: 'heapstream simulated node',
      containerRuntimeVersion: 'containerd://1.7.24',
      kubeletVersion: 'v1.34.4',
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

export function workloadObjects(w: Workload, uids: { deployment?: string }): { path: string; body: Json; kind: string; name: string }[] {
  const ns = w.namespace;
  const selector = { matchLabels: selectorLabels(w) };
  const labels = { ...w.labels, [SIM_LABEL]: 'true' };
  switch (w.kind) {
    case 'Deployment': {
      const out = [];
      if (!uids.deployment) {
        out.push({
          kind: 'Deployment',
          name: w.name,
          path: `/apis/apps/v1/namespaces/${ns}/deployments`,
          body: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: w.name, namespace: ns, labels }, spec: { replicas: w.replicas, selector, template: podTemplate(w) } },
        });
      } else {
        out.push({
          kind: 'ReplicaSet',
          name: w.replicaSetName!,
          path: `/apis/apps/v1/namespaces/${ns}/replicasets`,
          body: {
            apiVersion: 'apps/v1',
            kind: 'ReplicaSet',
            metadata: {
              name: w.replicaSetName,
              namespace: ns,
              labels: { ...labels, 'pod-template-hash': w.podTemplateHash },
              annotations: { 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': String(w.replicas) },
              ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: w.name, uid: uids.deployment, controller: true, blockOwnerDeletion: true }],
            },
            spec: { replicas: w.replicas, selector: { matchLabels: { ...selector.matchLabels, 'pod-template-hash': w.podTemplateHash } }, template: podTemplate(w) },
          },
        });
      }
      return out;
    }
    case 'DaemonSet':
      return [
        {
          kind: 'DaemonSet',
          name: w.name,
          path: `/apis/apps/v1/namespaces/${ns}/daemonsets`,
          body: { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: w.name, namespace: ns, labels }, spec: { selector, template: podTemplate(w) } },
        },
      ];
    case 'StatefulSet':
      return [
        {
          kind: 'StatefulSet',
          name: w.name,
          path: `/apis/apps/v1/namespaces/${ns}/statefulsets`,
          body: {
            apiVersion: 'apps/v1',
            kind: 'StatefulSet',
            metadata: { name: w.name, namespace: ns, labels },
            spec: { serviceName: w.name, replicas: w.replicas, selector, template: podTemplate(w) },
          },
        },
      ];
  }
}

export function pvcObject(namespace: string, claimName: string, labels: Record<string, string>): Json {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: claimName, namespace, labels: { ...labels, [SIM_LABEL]: 'true' } },
    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } },
  };
}
