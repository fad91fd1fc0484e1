import { parseSimOptions, type SimConfig, type SimOptionsInput } from './config.js';
import { FaultPlan } from './faults.js';
import { buildCluster, epochAt, type ClusterModel, type NodeState, type PodState } from './model.js';
import { podObject } from './objects.js';
import { resourceMetrics } from './prometheus.js';
import { sampleTimeAt, SummaryBuilder } from './summary.js';
import type { Summary } from './summary-types.js';
import { World, type WorldEvent } from './world.js';

/**
 * The simulated cluster without any I/O: model, event history and faults. What a
 * node reports at a sample time is `summary(node, sampleMs)`; tests can use this
 * directly, with a fixed epoch, to check determinism.
 */

export interface PodIdentity {
  /** The uid the API server gave the pod; undefined while the pod is not registered. */
  uid(pod: PodState): string | undefined;
  ownerUid(pod: PodState): string | undefined;
}

/** Without an API server, pods keep their simulated uids. */
export const LOCAL_IDENTITY: PodIdentity = { uid: (pod) => pod.uid, ownerUid: () => undefined };

export class SimulatedCluster {
  readonly config: SimConfig;
  readonly model: ClusterModel;
  readonly world: World;
  readonly faults: FaultPlan;
  private readonly byName = new Map<string, NodeState>();
  identity: PodIdentity = LOCAL_IDENTITY;

  /** `config` is parsed already; see `SimulatedCluster.create` for raw options. */
  constructor(config: SimConfig, epochMs: number) {
    this.config = config;
    const c = config;
    this.model = buildCluster({
      seed: c.seed,
      namePrefix: c.namePrefix,
      nodes: c.nodes,
      podsPerNode: c.podsPerNode,
      containersPerPod: c.containersPerPod,
      addressOctet: c.addressOctet,
      kubeletPort: c.kubeletPort,
      legacyFraction: c.legacyFraction,
      epochMs: c.epoch ?? epochMs,
    });
    this.world = new World(this.model, {
      churnPerHour: c.churn,
      restartRatePerHour: c.restartRate,
      historyRetentionMs: c.historyRetention,
    });
    this.faults = new FaultPlan({
      seed: c.seed,
      latency: c.latency,
      slowFraction: c.slowFraction,
      slowLatency: c.slowLatency,
      errorRate: c.errorRate,
      errorKinds: c.errorKinds,
    });
    for (const s of c.clockSkew) this.faults.setSkew(s.nodeIndex, s.skewMs);
    for (const n of this.model.nodes) this.byName.set(n.spec.name, n);
  }

  static create(options: SimOptionsInput, epochMs: number): SimulatedCluster {
    return new SimulatedCluster(parseSimOptions(options), epochMs);
  }

  get epochMs(): number {
    return this.model.shape.epochMs;
  }

  get nodes(): readonly NodeState[] {
    return this.model.nodes;
  }

  node(nameOrIndex: string | number): NodeState {
    const n = typeof nameOrIndex === 'number' ? this.model.nodes[nameOrIndex] : this.byName.get(nameOrIndex);
    if (!n) throw new Error(`no simulated node ${nameOrIndex}`);
    return n;
  }

  advanceTo(atMs: number): WorldEvent[] {
    return this.world.advanceTo(atMs);
  }

  sampleTimeAt(node: NodeState, atMs: number): number {
    return sampleTimeAt(node, atMs, this.config.interval);
  }

  /** The Summary a node reports for sample `sampleMs` (history must have been advanced that far). */
  summary(node: NodeState, sampleMs: number, opts: { onlyCpuAndMemory?: boolean; skewMs?: number } = {}): Summary {
    const identity = this.identity;
    const s = new SummaryBuilder(node, {
      intervalMs: this.config.interval,
      skewMs: opts.skewMs ?? this.faults.skew(node.spec.index),
      onlyCpuAndMemory: opts.onlyCpuAndMemory,
    }).build(sampleMs);
    if (identity !== LOCAL_IDENTITY) {
      // The kubelet only knows pods the API server has; it reports the API's uid.
      const epoch = epochAt(node, sampleMs);
      const byName = new Map(epoch.pods.map((p) => [`${p.namespace}/${p.name}`, p]));
      s.pods = s.pods.filter((ps) => {
        const pod = byName.get(`${ps.podRef.namespace}/${ps.podRef.name}`);
        const uid = pod && identity.uid(pod);
        if (!uid) return false;
        ps.podRef.uid = uid;
        return true;
      });
    }
    return s;
  }

  resourceMetrics(node: NodeState, sampleMs: number, skewMs?: number): string {
    return resourceMetrics(this.summary(node, sampleMs, { onlyCpuAndMemory: true, skewMs }));
  }

  /** The kubelet's `/pods`: a PodList of what runs on the node at `atMs`. */
  podList(node: NodeState, atMs: number): unknown {
    const items = [];
    for (const pod of epochAt(node, atMs).pods) {
      const uid = this.identity.uid(pod);
      if (!uid) continue;
      items.push({
        ...podObject(pod, node.spec, { uid, ownerUid: this.identity.ownerUid(pod), creationMs: pod.createdMs, withStatus: true }),
      });
    }
    return { kind: 'PodList', apiVersion: 'v1', metadata: {}, items };
  }
}
