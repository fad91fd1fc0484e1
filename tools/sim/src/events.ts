import { KubeApiError, type KubeHttp } from '@heapstream/kube';
import type { NodeState, PodState } from './model.js';
import { Prng } from './random.js';
import { iso } from './objects.js';

/**
 * Kubernetes Events as the kubelet (core/v1, `count`) and the scheduler
 * (events.k8s.io/v1, `series`) write them, for lifecycle changes and as background
 * traffic at a requested rate, with repeats that bump count or series.
 */

export type EventApi = 'core/v1' | 'events.k8s.io/v1';

export interface EventRecord {
  api: EventApi;
  namespace: string;
  name: string;
  reason: string;
  type: 'Normal' | 'Warning';
  regarding: { kind: string; namespace?: string; name: string; uid?: string };
  message: string;
  count: number;
  firstMs: number;
  lastMs: number;
  node: string;
}

export interface EventTarget {
  pod: PodState;
  node: NodeState;
  uid?: string;
}

interface Template {
  reason: string;
  type: 'Normal' | 'Warning';
  api: EventApi;
  weight: number;
  message: (t: EventTarget, container: string) => string;
}

const TEMPLATES: Template[] = [
  { reason: 'Scheduled', type: 'Normal', api: 'events.k8s.io/v1', weight: 2, message: (t) => `Successfully assigned ${t.pod.namespace}/${t.pod.name} to ${t.node.spec.name}` },
  { reason: 'Pulling', type: 'Normal', api: 'core/v1', weight: 2, message: (t, c) => `Pulling image "${t.pod.containers.find((x) => x.name === c)?.template.image ?? c}"` },
  { reason: 'Pulled', type: 'Normal', api: 'core/v1', weight: 2, message: (t, c) => `Successfully pulled image "${t.pod.containers.find((x) => x.name === c)?.template.image ?? c}" in 1.2s (1.2s including waiting). Image size: 52428800 bytes.` },
  { reason: 'Created', type: 'Normal', api: 'core/v1', weight: 2, message: (_t, c) => `Created container: ${c}` },
  { reason: 'Started', type: 'Normal', api: 'core/v1', weight: 2, message: (_t, c) => `Started container ${c}` },
  { reason: 'Killing', type: 'Normal', api: 'core/v1', weight: 1, message: (_t, c) => `Stopping container ${c}` },
  { reason: 'BackOff', type: 'Warning', api: 'core/v1', weight: 2, message: (t, c) => `Back-off restarting failed container ${c} in pod ${t.pod.name}_${t.pod.namespace}(${t.uid ?? t.pod.uid})` },
  { reason: 'OOMKilled', type: 'Warning', api: 'core/v1', weight: 1, message: (_t, c) => `Container ${c} was OOM-killed (memory limit exceeded)` },
  { reason: 'Unhealthy', type: 'Warning', api: 'core/v1', weight: 2, message: () => 'Readiness probe failed: HTTP probe failed with statuscode: 503' },
  { reason: 'FailedScheduling', type: 'Warning', api: 'events.k8s.io/v1', weight: 1, message: () => '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint {node.kubernetes.io/unschedulable: }. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.' },
];
const TOTAL_WEIGHT = TEMPLATES.reduce((s, t) => s + t.weight, 0);

function micro(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

interface Live {
  record: EventRecord;
  template: Template;
}

export class EventWriter {
  private readonly recent: Live[] = [];
  readonly written: EventRecord[] = [];
  private readonly rng: Prng;
  private timer?: NodeJS.Timeout;
  private carry = 0;
  private serial = 0;
  private pending = 0;
  dropped = 0;

  constructor(
    private readonly api: KubeHttp,
    private readonly opts: {
      seed: number;
      eventsPerSecond: number;
      now: () => number;
      targets: () => EventTarget[];
      maxRecords?: number;
      onError: (err: unknown) => void;
    },
  ) {
    this.rng = new Prng(opts.seed ^ 0x65766e74);
  }

  start(): void {
    if (this.opts.eventsPerSecond <= 0 || this.timer) return;
    const tickMs = 200;
    this.timer = setInterval(() => {
      this.carry += (this.opts.eventsPerSecond * tickMs) / 1000;
      const n = Math.floor(this.carry);
      this.carry -= n;
      for (let i = 0; i < n; i++) this.background();
    }, tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One background event: a repeat of a recent one (30%) or a new one. */
  private background(): void {
    if (this.recent.length > 0 && this.rng.chance(0.3)) {
      const live = this.rng.pick(this.recent);
      this.fire(this.repeat(live));
      return;
    }
    const targets = this.opts.targets();
    if (targets.length === 0) return;
    const target = this.rng.pick(targets);
    let r = this.rng.next() * TOTAL_WEIGHT;
    let template = TEMPLATES[0]!;
    for (const t of TEMPLATES) {
      r -= t.weight;
      if (r <= 0) {
        template = t;
        break;
      }
    }
    const container = this.rng.pick(target.pod.containers).name;
    this.fire(this.create(template, target, container));
  }

  /** Lifecycle events of a new pod (Scheduled, Pulling, Pulled, Created, Started). */
  podStarted(target: EventTarget): void {
    const c = target.pod.containers[0]?.name ?? 'main';
    for (const reason of ['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']) {
      this.fire(this.create(TEMPLATES.find((t) => t.reason === reason)!, target, c));
    }
  }

  podStopped(target: EventTarget): void {
    for (const c of target.pod.containers) this.fire(this.create(TEMPLATES.find((t) => t.reason === 'Killing')!, target, c.name));
  }

  containerRestarted(target: EventTarget, container: string, reason: 'OOMKilled' | 'Error' | 'Completed'): void {
    if (reason === 'OOMKilled') this.fire(this.create(TEMPLATES.find((t) => t.reason === 'OOMKilled')!, target, container));
    const key = `${target.pod.namespace}/${target.pod.name}/BackOff/${container}`;
    const existing = this.recent.find((l) => `${l.record.namespace}/${l.record.regarding.name}/${l.record.reason}/${container}` === key);
    if (existing) this.fire(this.repeat(existing));
    else this.fire(this.create(TEMPLATES.find((t) => t.reason === 'BackOff')!, target, container));
    for (const reason of ['Pulled', 'Created', 'Started']) this.fire(this.create(TEMPLATES.find((t) => t.reason === reason)!, target, container));
  }

  private remember(live: Live): void {
    this.recent.push(live);
    if (this.recent.length > 500) this.recent.shift();
  }

  private record(r: EventRecord): void {
    this.written.push({ ...r });
    const max = this.opts.maxRecords ?? 20_000;
    if (this.written.length > max) this.written.splice(0, this.written.length - max);
  }

  private create(template: Template, target: EventTarget, container: string): () => Promise<void> {
    const now = this.opts.now();
    const pod = target.pod;
    const name = `${pod.name}.${(BigInt(now) * 1_000_000n + BigInt(this.serial++ % 1_000_000)).toString(16)}`;
    const record: EventRecord = {
      api: template.api,
      namespace: pod.namespace,
      name,
      reason: template.reason,
      type: template.type,
      regarding: { kind: 'Pod', namespace: pod.namespace, name: pod.name, uid: target.uid },
      message: template.message(target, container),
      count: 1,
      firstMs: now,
      lastMs: now,
      node: target.node.spec.name,
    };
    const live = { record, template };
    this.remember(live);
    return async () => {
      await this.api.request('POST', this.collection(record), { body: this.body(record, template, container), timeoutMs: 30_000 });
      this.record(record);
    };
  }

  private repeat(live: Live): () => Promise<void> {
    const r = live.record;
    r.count += 1;
    r.lastMs = Math.max(this.opts.now(), r.lastMs + 1);
    const snapshot = { ...r };
    return async () => {
      try {
        await this.api.request('PUT', `${this.collection(snapshot)}/${snapshot.name}`, { body: this.body(snapshot, live.template, ''), timeoutMs: 30_000 });
        this.record(snapshot);
      } catch (err) {
        // The first write may not have landed yet (or failed); a lost repeat is dropped.
        if (err instanceof KubeApiError && err.statusCode === 404) this.dropped++;
        else throw err;
      }
    };
  }

  private collection(r: EventRecord): string {
    return r.api === 'core/v1' ? `/api/v1/namespaces/${r.namespace}/events` : `/apis/events.k8s.io/v1/namespaces/${r.namespace}/events`;
  }

  private body(r: EventRecord, t: Template, container: string): Record<string, unknown> {
    if (r.api === 'core/v1') {
      return {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: r.name, namespace: r.namespace },
        involvedObject: { kind: 'Pod', namespace: r.namespace, name: r.regarding.name, uid: r.regarding.uid, apiVersion: 'v1', ...(container ? { fieldPath: `spec.containers{${container}}` } : {}) },
        reason: r.reason,
        message: r.message,
        source: { component: 'kubelet', host: r.node },
        firstTimestamp: iso(r.firstMs),
        lastTimestamp: iso(r.lastMs),
        count: r.count,
        type: r.type,
        eventTime: null,
        reportingComponent: 'kubelet',
        reportingInstance: r.node,
      };
    }
    return {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: r.name, namespace: r.namespace },
      eventTime: micro(r.firstMs),
      ...(r.count > 1 ? { series: { count: r.count, lastObservedTime: micro(r.lastMs) } } : {}),
      reportingController: 'default-scheduler',
      reportingInstance: 'default-scheduler-heapstream-sim',
      action: t.reason === 'Scheduled' ? 'Binding' : 'Scheduling',
      reason: r.reason,
      regarding: { kind: 'Pod', namespace: r.namespace, name: r.regarding.name, uid: r.regarding.uid, apiVersion: 'v1' },
      note: r.message,
      type: r.type,
    };
  }

  /** Writes are fire-and-forget with a cap on in-flight calls; beyond it events are dropped and counted. */
  /** While paused no Event is written, so a test can wait for consumers to catch up with a fixed truth. */
  paused = false;

  private fire(write: () => Promise<void>): void {
    if (this.paused) return;
    if (this.pending >= 64) {
      this.dropped++;
      return;
    }
    this.pending++;
    write()
      .catch((err: unknown) => {
        this.dropped++;
        this.opts.onError(err);
      })
      .finally(() => this.pending--);
  }
}
