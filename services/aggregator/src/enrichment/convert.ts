import type { V1Job, V1Node, V1ObjectMeta, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { parseQuantity, type NodeMeta, type PodMeta, type Resources, type WorkloadRef } from '../core/enrich.js';

/** Pure conversions from API objects to what enrichment needs. */

export interface OwnerLookup {
  replicaSet(namespace: string, name: string): V1ReplicaSet | undefined;
  job(namespace: string, name: string): V1Job | undefined;
}

const controllerOf = (m: V1ObjectMeta | undefined) => m?.ownerReferences?.find((o) => o.controller) ?? m?.ownerReferences?.[0];

/** The top workload: ReplicaSet -> Deployment, Job -> CronJob, DaemonSet, StatefulSet, or the direct controller. */
export function workloadOf(pod: V1Pod, owners: OwnerLookup): WorkloadRef | undefined {
  const ns = pod.metadata?.namespace ?? '';
  const ref = controllerOf(pod.metadata);
  if (!ref) return undefined;
  if (ref.kind === 'ReplicaSet') {
    const up = controllerOf(owners.replicaSet(ns, ref.name)?.metadata);
    if (up?.kind === 'Deployment') return { kind: 'Deployment', name: up.name };
    // Not cached yet: the pod-template-hash suffix names the Deployment.
    const hash = pod.metadata?.labels?.['pod-template-hash'];
    if (!up && hash && ref.name.endsWith(`-${hash}`)) return { kind: 'Deployment', name: ref.name.slice(0, -(hash.length + 1)) };
    return { kind: 'ReplicaSet', name: ref.name };
  }
  if (ref.kind === 'Job') {
    const up = controllerOf(owners.job(ns, ref.name)?.metadata);
    return up?.kind === 'CronJob' ? { kind: 'CronJob', name: up.name } : { kind: 'Job', name: ref.name };
  }
  return { kind: ref.kind, name: ref.name };
}

function resources(r: Record<string, string> | undefined): Resources {
  const out: Resources = {};
  const cpu = parseQuantity(r?.cpu, true);
  const memory = parseQuantity(r?.memory);
  const eph = parseQuantity(r?.['ephemeral-storage']);
  if (cpu !== undefined) out.cpu = cpu;
  if (memory !== undefined) out.memory = memory;
  if (eph !== undefined) out.ephemeralStorage = eph;
  return out;
}

export function podMetaOf(pod: V1Pod, owners: OwnerLookup): PodMeta {
  const restarts = new Map((pod.status?.containerStatuses ?? []).map((s) => [s.name, s.restartCount]));
  const meta: PodMeta = {
    labels: pod.metadata?.labels ?? {},
    containers: (pod.spec?.containers ?? []).map((c) => {
      const restartCount = restarts.get(c.name);
      return {
        name: c.name,
        requests: resources(c.resources?.requests as Record<string, string> | undefined),
        limits: resources(c.resources?.limits as Record<string, string> | undefined),
        ...(Number.isInteger(restartCount) && restartCount! >= 0 ? { restarts: restartCount } : {}),
      };
    }),
  };
  const w = workloadOf(pod, owners);
  if (w) meta.workload = w;
  return meta;
}

export function nodeMetaOf(node: V1Node): NodeMeta {
  return {
    capacity: resources(node.status?.capacity as Record<string, string> | undefined),
    allocatable: resources(node.status?.allocatable as Record<string, string> | undefined),
  };
}
