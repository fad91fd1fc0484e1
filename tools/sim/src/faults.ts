import type { ErrorKind, LatencyDistribution, OutageMode } from './config.js';
import { hashInts, Prng, unit } from './random.js';

/** Per-request fault decisions: latency, injected errors, outages and clock skew per node. */

export interface FaultDecision {
  delayMs: number;
  error?: ErrorKind;
}

export interface Outage {
  mode: OutageMode;
  /** When it ends by itself (simulated ms), or undefined until `restoreNode`. */
  untilMs?: number;
}

export interface FaultSettings {
  seed: number;
  latency: LatencyDistribution;
  slowFraction: number;
  slowLatency: LatencyDistribution;
  errorRate: number;
  errorKinds: ErrorKind[];
}

export function sampleLatency(d: LatencyDistribution, rng: Prng): number {
  switch (d.kind) {
    case 'none':
      return 0;
    case 'const':
      return d.ms;
    case 'uniform':
      return rng.range(d.minMs, d.maxMs);
    case 'normal':
      return Math.max(0, d.meanMs + d.stddevMs * rng.normal());
    case 'lognormal': {
      // p99 = median * exp(2.326 sigma)
      const sigma = Math.log(d.p99Ms / d.medianMs) / 2.326;
      return d.medianMs * Math.exp(sigma * rng.normal());
    }
    case 'exp':
      return rng.exponential(1 / Math.max(d.meanMs, 1e-9));
  }
}

export class FaultPlan {
  private readonly requestCount = new Map<number, number>();
  private readonly outages = new Map<number, Outage>();
  private readonly skews = new Map<number, number>();

  constructor(private readonly settings: FaultSettings) {}

  isSlow(nodeIndex: number): boolean {
    return unit(hashInts(this.settings.seed, 0x736c6f77, nodeIndex)) < this.settings.slowFraction;
  }

  /** The n-th request to a node always gets the same decision for a given seed. */
  decide(nodeIndex: number): FaultDecision {
    const n = (this.requestCount.get(nodeIndex) ?? 0) + 1;
    this.requestCount.set(nodeIndex, n);
    const rng = new Prng(hashInts(this.settings.seed, 0x6661756c, nodeIndex, n));
    let delayMs = sampleLatency(this.settings.latency, rng);
    if (this.isSlow(nodeIndex)) delayMs += sampleLatency(this.settings.slowLatency, rng);
    const s = this.settings;
    if (s.errorRate > 0 && s.errorKinds.length > 0 && rng.chance(s.errorRate)) {
      return { delayMs, error: rng.pick(s.errorKinds) };
    }
    return { delayMs };
  }

  setOutage(nodeIndex: number, outage: Outage): void {
    this.outages.set(nodeIndex, outage);
  }

  clearOutage(nodeIndex: number): void {
    this.outages.delete(nodeIndex);
  }

  outage(nodeIndex: number): Outage | undefined {
    return this.outages.get(nodeIndex);
  }

  /** Outages whose time is up at `nowMs`; removes them. */
  expireOutages(nowMs: number): number[] {
    const ended: number[] = [];
    for (const [index, o] of this.outages) {
      if (o.untilMs !== undefined && o.untilMs <= nowMs) {
        this.outages.delete(index);
        ended.push(index);
      }
    }
    return ended;
  }

  setSkew(nodeIndex: number, skewMs: number): void {
    if (skewMs === 0) this.skews.delete(nodeIndex);
    else this.skews.set(nodeIndex, skewMs);
  }

  skew(nodeIndex: number): number {
    return this.skews.get(nodeIndex) ?? 0;
  }
}
