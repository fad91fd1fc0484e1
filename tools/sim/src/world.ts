import { counter } from './signals.js';
import { newPod, restartContainer, rngFor, type ClusterModel, type NodeState, type PodState, type Termination } from './model.js';
import type { Prng } from './random.js';
import { containerPageFaults } from './summary.js';

/**
 * The event history: pod replacements (churn) and container restarts, drawn from
 * two seeded Poisson processes on the simulated clock. Advancing to a time in any
 * number of steps gives the same history, so payloads stay a pure function of
 * (seed, node, time, history).
 */

export type WorldEvent =
  | { type: 'pod-replaced'; atMs: number; node: NodeState; old: PodState; pod: PodState }
  | {
      type: 'container-restarted';
      atMs: number;
      node: NodeState;
      pod: PodState;
      containerIndex: number;
      reason: Termination['reason'];
    };

export interface WorldRates {
  /** Pod replacements per hour, cluster-wide. */
  churnPerHour: number;
  /** Restarts per container per hour. */
  restartRatePerHour: number;
  /** Epochs older than this are dropped, except the one still in effect. */
  historyRetentionMs: number;
}

/** Cumulative CPU of a pod at `atMs`, including restarted container instances. */
export function podCpuNs(pod: PodState, atMs: number): number {
  let total = pod.priorCpuNs;
  for (const c of pod.containers) total += counter(c.key, c.template.cpuMeanNanoCores, c.startMs, atMs);
  return total;
}

export class World {
  private readonly churnRng: Prng;
  private readonly restartRng: Prng;
  private nextChurnMs: number;
  private nextRestartMs: number;
  private readonly containerCount: number;
  private advancedTo: number;
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    readonly model: ClusterModel,
    private readonly rates: WorldRates,
  ) {
    const seed = model.shape.seed;
    this.churnRng = rngFor(seed, 'churn');
    this.restartRng = rngFor(seed, 'restart');
    this.containerCount = model.nodes.reduce((n, node) => n + node.history[0]!.pods.reduce((m, p) => m + p.containers.length, 0), 0);
    this.advancedTo = model.shape.epochMs;
    this.nextChurnMs = this.draw(this.churnRng, rates.churnPerHour, this.advancedTo);
    this.nextRestartMs = this.draw(this.restartRng, rates.restartRatePerHour * this.containerCount, this.advancedTo);
  }

  /** Next arrival of a Poisson process of `perHour`, on whole seconds, strictly after `fromMs`. */
  private draw(rng: Prng, perHour: number, fromMs: number): number {
    if (perHour <= 0) return Number.POSITIVE_INFINITY;
    const gapMs = rng.exponential(perHour / 3600e3);
    return Math.max(fromMs + 1000, Math.round((fromMs + gapMs) / 1000) * 1000);
  }

  get now(): number {
    return this.advancedTo;
  }

  /** Apply every churn/restart event up to and including `atMs`, in time order. */
  advanceTo(atMs: number): WorldEvent[] {
    const out: WorldEvent[] = [];
    const nodes = this.model.nodes;
    if (nodes.length === 0) return out;
    while (Math.min(this.nextChurnMs, this.nextRestartMs) <= atMs) {
      if (this.nextChurnMs <= this.nextRestartMs) {
        const at = this.nextChurnMs;
        const e = this.replacePod(at);
        if (e) out.push(e);
        this.nextChurnMs = this.draw(this.churnRng, this.rates.churnPerHour, at);
      } else {
        const at = this.nextRestartMs;
        const e = this.restart(at);
        if (e) out.push(e);
        this.nextRestartMs = this.draw(this.restartRng, this.rates.restartRatePerHour * this.containerCount, at);
      }
    }
    // Pruning walks every node: do it at most once a minute of simulated time.
    if (atMs - this.prunedAt >= 60_000) {
      this.prune(atMs);
      this.prunedAt = atMs;
    }
    this.advancedTo = Math.max(this.advancedTo, atMs);
    return out;
  }

  private current(node: NodeState) {
    return node.history[node.history.length - 1]!;
  }

  private replacePod(atMs: number): WorldEvent | undefined {
    const rng = this.churnRng;
    const node = rng.pick(this.model.nodes);
    const epoch = this.current(node);
    if (epoch.pods.length === 0) return undefined;
    const index = rng.int(epoch.pods.length);
    const old = epoch.pods[index]!;
    const podRng = rngFor(this.model.shape.seed, 'replacement', atMs, node.spec.index, index);
    const pod = newPod({ workload: old.workload, ordinal: old.ordinal, createdMs: atMs, rng: podRng, shapeSeed: this.model.shape.seed });
    const pods = epoch.pods.slice();
    pods[index] = pod;
    node.history.push({ fromMs: atMs, pods, retiredCpuNs: epoch.retiredCpuNs + podCpuNs(old, atMs) });
    return { type: 'pod-replaced', atMs, node, old, pod };
  }

  private restart(atMs: number): WorldEvent | undefined {
    const rng = this.restartRng;
    const node = rng.pick(this.model.nodes);
    const epoch = this.current(node);
    if (epoch.pods.length === 0) return undefined;
    const podIndex = rng.int(epoch.pods.length);
    const pod = epoch.pods[podIndex]!;
    const containerIndex = rng.int(pod.containers.length);
    const reason = rng.chance(0.3) ? 'OOMKilled' : 'Error';
    const c = pod.containers[containerIndex];
    // A container that has not started yet cannot die; the draw is still consumed.
    if (!c || c.startMs >= atMs) return undefined;
    const cpuNs = counter(c.key, c.template.cpuMeanNanoCores, c.startMs, atMs);
    const faults = containerPageFaults(c, atMs);
    const idRng = rngFor(this.model.shape.seed, 'restart-id', atMs, node.spec.index);
    const restarted = restartContainer(pod, containerIndex, atMs, reason, idRng, cpuNs, faults);
    const pods = epoch.pods.slice();
    pods[podIndex] = restarted;
    node.history.push({ fromMs: atMs, pods, retiredCpuNs: epoch.retiredCpuNs });
    return { type: 'container-restarted', atMs, node, pod: restarted, containerIndex, reason };
  }

  private prune(atMs: number): void {
    const horizon = atMs - this.rates.historyRetentionMs;
    for (const node of this.model.nodes) {
      const h = node.history;
      let drop = 0;
      while (drop + 1 < h.length && h[drop + 1]!.fromMs <= horizon) drop++;
      if (drop > 0) {
        h.splice(0, drop);
        h[0] = { ...h[0]!, fromMs: Number.NEGATIVE_INFINITY };
      }
    }
  }
}
