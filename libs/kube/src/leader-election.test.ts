import { describe, expect, it } from 'vitest';
import { KubeApiError, type RequestOptions } from './http.js';
import { LeaderElector } from './leader-election.js';

/** An in-memory Lease endpoint with the API server's optimistic concurrency. */
class FakeLeases {
  lease: { metadata: Record<string, unknown>; spec: Record<string, unknown> } | undefined;
  private rv = 0;
  async request<T>(method: string, _path: string, opts: RequestOptions = {}): Promise<T> {
    const body = structuredClone(opts.body) as typeof this.lease;
    if (method === 'GET') {
      if (!this.lease) throw new KubeApiError(404, 'NotFound', 'not found');
      return structuredClone(this.lease) as T;
    }
    if (method === 'POST') {
      if (this.lease) throw new KubeApiError(409, 'AlreadyExists', 'exists');
      this.lease = { ...body!, metadata: { ...body!.metadata, resourceVersion: String(++this.rv) } };
      return structuredClone(this.lease) as T;
    }
    if (body!.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) throw new KubeApiError(409, 'Conflict', 'conflict');
    this.lease = { ...body!, metadata: { ...body!.metadata, resourceVersion: String(++this.rv) } };
    return structuredClone(this.lease) as T;
  }
}

const waitUntil = async (cond: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 10));
  }
};

function contender(store: { request: FakeLeases['request'] }, identity: string, tracker: { active: Set<string>; max: number }) {
  const ctl = new AbortController();
  const elector = new LeaderElector({
    http: store,
    namespace: 'ns',
    name: 'lease',
    identity,
    leaseDurationSeconds: 1,
    renewDeadlineMs: 600,
    retryPeriodMs: 50,
    onStartedLeading: async (signal) => {
      tracker.active.add(identity);
      tracker.max = Math.max(tracker.max, tracker.active.size);
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      tracker.active.delete(identity);
    },
  });
  const done = elector.run(ctl.signal);
  return { elector, stop: async () => (ctl.abort(), await done) };
}

describe('LeaderElector', () => {
  it('elects one leader and hands over at once when the leader stops gracefully', async () => {
    const store = new FakeLeases();
    const tracker = { active: new Set<string>(), max: 0 };
    const a = contender(store, 'a', tracker);
    await waitUntil(() => a.elector.isLeader);
    const b = contender(store, 'b', tracker);
    await new Promise((r) => setTimeout(r, 300));
    expect(b.elector.isLeader).toBe(false);
    expect(b.elector.leader).toBe('a');
    const stoppedAt = Date.now();
    await a.stop();
    await waitUntil(() => b.elector.isLeader);
    // Released, so no need to wait out the 1 s lease.
    expect(Date.now() - stoppedAt).toBeLessThan(900);
    await b.stop();
    expect(tracker.max).toBe(1);
  });

  it('takes over after the lease expires when the leader vanishes, never overlapping', async () => {
    const store = new FakeLeases();
    let aCut = false;
    const flaky = { request: <T>(m: string, p: string, o?: RequestOptions) => (aCut ? Promise.reject(new Error('partitioned')) : store.request<T>(m, p, o)) };
    const tracker = { active: new Set<string>(), max: 0 };
    const a = contender(flaky, 'a', tracker);
    await waitUntil(() => a.elector.isLeader);
    const b = contender(store, 'b', tracker);
    aCut = true;
    await waitUntil(() => !a.elector.isLeader, 2_000);
    await waitUntil(() => b.elector.isLeader, 3_000);
    expect(tracker.max).toBe(1);
    await Promise.all([a.stop(), b.stop()]);
  });
});
