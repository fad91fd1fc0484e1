import { sleep } from './backoff.js';
import { KubeApiError, type KubeHttp } from './http.js';

export interface LeaderElectionOptions {
  http: Pick<KubeHttp, 'request'>;
  namespace: string;
  /** Lease name: one per thing to lead (e.g. `heapstream-event-watcher`). */
  name: string;
  /** This replica; unique per process (pod name plus a random suffix). */
  identity: string;
  leaseDurationSeconds?: number;
  /** A leader that could not renew for this long steps down (must be below the lease duration). */
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Called when this replica becomes leader; `signal` aborts when leadership is lost. */
  onStartedLeading: (signal: AbortSignal) => Promise<void> | void;
  onStoppedLeading?: () => void;
  onNewLeader?: (identity: string) => void;
  onError?: (err: Error) => void;
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}
interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: LeaseSpec;
}

/** Kubernetes MicroTime: RFC 3339 with exactly six fraction digits. */
const microTime = (ms = Date.now()): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/**
 * Lease-based leader election (coordination.k8s.io/v1), the client-go algorithm:
 * expiry is judged by when *this* replica last saw the lease change, so clocks need
 * not agree; updates use the lease's resourceVersion, so only one contender wins.
 */
export class LeaderElector {
  private leading = false;
  private observed: { record: string; at: number } | undefined;
  private lastRenew = 0;
  private currentLeader: string | undefined;

  constructor(private readonly opts: LeaderElectionOptions) {}

  get isLeader(): boolean {
    return this.leading;
  }
  get leader(): string | undefined {
    return this.currentLeader;
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${this.opts.namespace}/leases/${this.opts.name}`;
  }

  /** Campaigns, leads, and campaigns again after losing; returns after `signal` aborts (releasing the lease). */
  async run(signal: AbortSignal): Promise<void> {
    const retry = this.opts.retryPeriodMs ?? 2_000;
    const renewDeadline = this.opts.renewDeadlineMs ?? 10_000;
    let term: { ctl: AbortController; work: Promise<void> } | undefined;
    while (!signal.aborted) {
      let ok = false;
      try {
        ok = await this.tryAcquireOrRenew();
      } catch (err) {
        this.opts.onError?.(err as Error);
      }
      if (ok) this.lastRenew = Date.now();
      if (ok && !term) {
        this.leading = true;
        const ctl = new AbortController();
        const work = Promise.resolve()
          .then(() => this.opts.onStartedLeading(ctl.signal))
          .catch((err) => this.opts.onError?.(err as Error));
        term = { ctl, work };
      } else if (term && (Date.now() - this.lastRenew > renewDeadline || (!ok && this.currentLeader !== this.opts.identity))) {
        await this.stepDown(term);
        term = undefined;
      }
      await sleep(retry, signal);
    }
    if (term) {
      await this.stepDown(term);
      await this.release().catch((err) => this.opts.onError?.(err as Error));
    }
  }

  private async stepDown(term: { ctl: AbortController; work: Promise<void> }): Promise<void> {
    term.ctl.abort(new Error('leadership lost'));
    await term.work;
    this.leading = false;
    this.opts.onStoppedLeading?.();
  }

  private setLeader(identity: string | undefined): void {
    if (identity && identity !== this.currentLeader) this.opts.onNewLeader?.(identity);
    this.currentLeader = identity;
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    const duration = this.opts.leaseDurationSeconds ?? 15;
    let lease: Lease;
    try {
      lease = await this.opts.http.request<Lease>('GET', this.path, { timeoutMs: 5_000 });
    } catch (err) {
      if (!(err instanceof KubeApiError && err.statusCode === 404)) throw err;
      const created: Lease = {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.opts.name, namespace: this.opts.namespace },
        spec: { holderIdentity: this.opts.identity, leaseDurationSeconds: duration, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 },
      };
      try {
        await this.opts.http.request('POST', `/apis/coordination.k8s.io/v1/namespaces/${this.opts.namespace}/leases`, { body: created, timeoutMs: 5_000 });
      } catch (e) {
        if (e instanceof KubeApiError && e.statusCode === 409) return false;
        throw e;
      }
      this.setLeader(this.opts.identity);
      return true;
    }
    const spec = lease.spec ?? {};
    const record = JSON.stringify([spec.holderIdentity, spec.renewTime, spec.leaseTransitions]);
    if (this.observed?.record !== record) this.observed = { record, at: now };
    const holder = spec.holderIdentity || undefined;
    const expiresAt = this.observed.at + (spec.leaseDurationSeconds ?? duration) * 1000;
    if (holder && holder !== this.opts.identity && now < expiresAt) {
      this.setLeader(holder);
      return false;
    }
    const iHold = holder === this.opts.identity;
    const next: Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: this.opts.identity,
        leaseDurationSeconds: duration,
        renewTime: microTime(now),
        acquireTime: iHold ? spec.acquireTime : microTime(now),
        leaseTransitions: iHold ? (spec.leaseTransitions ?? 0) : (spec.leaseTransitions ?? 0) + 1,
      },
    };
    try {
      await this.opts.http.request('PUT', this.path, { body: next, timeoutMs: 5_000 });
    } catch (e) {
      if (e instanceof KubeApiError && e.statusCode === 409) return false;
      throw e;
    }
    this.setLeader(this.opts.identity);
    return true;
  }

  /** Lets a standby take over at once instead of waiting for the lease to expire. */
  private async release(): Promise<void> {
    const lease = await this.opts.http.request<Lease>('GET', this.path, { timeoutMs: 5_000 });
    if (lease.spec?.holderIdentity !== this.opts.identity) return;
    await this.opts.http.request('PUT', this.path, {
      timeoutMs: 5_000,
      body: { ...lease, spec: { ...lease.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime() } },
    });
  }
}
