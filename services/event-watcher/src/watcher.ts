import {
  EVENT_CHECKPOINT_SCHEMA_VERSION,
  emittedKey,
  encodeCheckpointValue,
  encodeEventRecord,
  positionKey,
  type EncodedMessage,
  type ObjectRef,
  type WorkloadRef,
} from '@heapstream/contracts';
import { Backoff, ListWatch, sleep, type KubeHttp, type ListWatchStatus } from '@heapstream/kube';
import { decide, type Decision } from './core/decide.js';
import { eventFilter, type EventFilterRules } from './core/filter.js';
import { toHeapsterEvent } from './core/heapster.js';
import { EmittedLedger, type LedgerEntry } from './core/ledger.js';
import { normalizeEvent, type NormalizedEvent, type SourceApi } from './core/normalize.js';
import { buildRecords } from './core/record.js';
import type { CheckpointEntry, EventOutput } from './output/event-output.js';

/** One list+watch: all namespaces, or one namespace, of one Events API. */
export interface EventStream {
  /** Checkpoint subject, e.g. `events.k8s.io/v1 *` or `v1 team-a`. */
  id: string;
  path: string;
  namespace?: string;
  api: SourceApi;
}

export interface WorkloadResolver {
  resolve(ref: ObjectRef): Promise<WorkloadRef | undefined>;
}

/** Counters the watcher reports; the Nest layer maps them onto Prometheus. */
export interface WatcherMetrics {
  seen(type: string): void;
  outcome(kind: Decision['kind'], reason?: string): void;
  emitted(records: number, delaysMs: number[]): void;
  listed(stream: string, items: number, relist: boolean): void;
  watchEnded(reason: string): void;
  committed(records: number, messages: number, durationMs: number): void;
  termFailed(error: Error): void;
}

export const noopMetrics: WatcherMetrics = {
  seen() {},
  outcome() {},
  emitted() {},
  listed() {},
  watchEnded() {},
  committed() {},
  termFailed() {},
};

export interface EventWatcherOptions {
  http: KubeHttp;
  output: EventOutput;
  streams: EventStream[];
  fieldSelector?: string;
  labelSelector?: string;
  filter?: EventFilterRules;
  cluster?: string;
  /** Heapster-compatible messages: the topic, or undefined to write none. */
  heapsterTopic?: string;
  /** First start: Events whose last occurrence is older than this are not exported (undefined: export all). */
  backfillMaxAgeMs?: number;
  maxExpand?: number;
  maxMessageBytes?: number;
  /** How long a deleted Event is remembered for a recreation under its name (EVENTS_RECREATED_WITHIN). */
  recreatedWithinMs?: number;
  flushIntervalMs?: number;
  maxBatch?: number;
  /**
   * Staged bytes that force a flush, also in the middle of one Event's occurrences:
   * they all share a partition, and a batch above the broker's message.max.bytes
   * (1 MiB by default) would be refused forever.
   */
  maxBatchBytes?: number;
  /** Positions are re-written at least this often, so checkpoint age means "alive". */
  checkpointIntervalMs?: number;
  silenceTimeoutMs?: number;
  watchTimeoutSeconds?: number;
  resolver?: WorkloadResolver;
  resolveTimeoutMs?: number;
  metrics?: WatcherMetrics;
  log?: (level: 'info' | 'warn' | 'error', msg: string, extra?: Record<string, unknown>) => void;
}

/** client-go recreates an expired Event when its source reports it again: typically within the hour. */
export const DEFAULT_RECREATED_WITHIN_MS = 3_600_000;

interface Pending {
  records: EncodedMessage[];
  heapster: EncodedMessage[];
  checkpoints: Map<string, Buffer | null>;
  positionsDirty: boolean;
  bytes: number;
}

const emptyPending = (): Pending => ({ records: [], heapster: [], checkpoints: new Map(), positionsDirty: false, bytes: 0 });

/**
 * Exports every Event occurrence exactly once. Each leadership term: open the output
 * (fencing the previous leader), restore the checkpoint, then list+watch every stream
 * from its saved position; records and the checkpoint that covers them are committed
 * together. Any output failure ends the term, and the next term restores again, so
 * in-memory state never outlives what is durable.
 */
export class EventWatcher {
  private readonly filter: ReturnType<typeof eventFilter>;
  private readonly metrics: WatcherMetrics;
  private ledger = new EmittedLedger();
  /** When `forget` last dropped expired tombstones. */
  private expiredAt = 0;
  private positions = new Map<string, string>();
  private pending = emptyPending();
  private flushing: Promise<void> = Promise.resolve();
  private watches: ListWatch[] = [];
  private termActive = false;
  private lastCheckpointAt: number | undefined;
  private commitsInTerm = 0;

  constructor(private readonly opts: EventWatcherOptions) {
    this.filter = eventFilter(opts.filter ?? {});
    this.metrics = opts.metrics ?? noopMetrics;
  }

  /** For readiness: is every stream watching, and when did a checkpoint last commit. */
  status(): { active: boolean; established: boolean; lastCheckpointAt: number | undefined; trackedEvents: number } {
    return {
      active: this.termActive,
      established: this.termActive && this.watches.length > 0 && this.watches.every((w) => w.established),
      lastCheckpointAt: this.lastCheckpointAt,
      trackedEvents: this.ledger.size,
    };
  }

  /** Runs terms until `signal` aborts; a failed term is retried with backoff. */
  async run(signal: AbortSignal): Promise<void> {
    const backoff = new Backoff(1_000, 30_000);
    while (!signal.aborted) {
      try {
        await this.runTerm(signal);
        backoff.reset();
      } catch (err) {
        if (signal.aborted) break;
        // A term that got work done was healthy: its failure is a fresh incident, not a streak.
        if (this.commitsInTerm > 0) backoff.reset();
        this.metrics.termFailed(err as Error);
        this.opts.log?.('warn', 'event watch term failed; restoring from the checkpoint', { err: (err as Error).message });
        await sleep(backoff.next(), signal);
      }
    }
  }

  private async runTerm(signal: AbortSignal): Promise<void> {
    const { output } = this.opts;
    await output.open();
    let failed: Error | undefined;
    const termCtl = new AbortController();
    const termSignal = AbortSignal.any([signal, termCtl.signal]);
    const fail = (err: Error) => {
      failed ??= err;
      termCtl.abort(err);
    };
    let timer: NodeJS.Timeout | undefined;
    try {
      const state = await output.restore();
      if (state.unreadable > 0) this.opts.log?.('warn', 'ignored unreadable checkpoint entries', { count: state.unreadable });
      this.ledger = state.ledger;
      this.positions = new Map(state.positions);
      this.pending = emptyPending();
      this.flushing = Promise.resolve();
      this.lastCheckpointAt = Date.now();
      this.commitsInTerm = 0;
      this.termActive = true;
      timer = setInterval(() => void this.flush().catch(fail), this.opts.flushIntervalMs ?? 200);
      this.watches = this.opts.streams.map((s) => this.listWatch(s, !state.positions.has(s.id), termSignal));
      const runs = this.watches.map((w, i) => w.run(termSignal, state.positions.get(this.opts.streams[i]!.id)).catch((err) => fail(err as Error)));
      await Promise.all(runs);
      if (failed) throw failed;
      // Intake has stopped (graceful stop): write what is pending, then let go of the output.
      clearInterval(timer);
      await this.flush(true);
    } finally {
      clearInterval(timer);
      this.termActive = false;
      this.watches = [];
      await output.close();
    }
  }

  private listWatch(stream: EventStream, firstStart: boolean, termSignal: AbortSignal): ListWatch {
    let firstList = firstStart;
    return new ListWatch({
      http: this.opts.http,
      path: stream.path,
      fieldSelector: this.opts.fieldSelector,
      labelSelector: this.opts.labelSelector,
      silenceTimeoutMs: this.opts.silenceTimeoutMs,
      watchTimeoutSeconds: this.opts.watchTimeoutSeconds,
      onStatus: (s: ListWatchStatus) => {
        if (s.type === 'watch-ended') {
          this.metrics.watchEnded(s.reason);
          if (s.reason !== 'closed') this.opts.log?.(s.reason === 'error' ? 'warn' : 'info', `watch ended: ${s.reason}`, { stream: stream.id, err: s.error?.message });
        }
      },
      handler: {
        onSnapshot: async (items, rv) => {
          const backfillFrom = firstList && this.opts.backfillMaxAgeMs !== undefined ? Date.now() - this.opts.backfillMaxAgeMs : undefined;
          this.metrics.listed(stream.id, items.length, !firstList);
          this.prefetchWorkloads(items, stream, termSignal);
          const present = new Set<string>();
          for (const item of items) {
            const uid = await this.observe(item, stream, backfillFrom);
            if (uid) present.add(uid);
            await this.maybeFlush();
          }
          for (const uid of this.ledger.absent(present, stream.namespace)) this.forget(uid);
          this.setPosition(stream.id, rv);
          firstList = false;
        },
        onEvent: async (type, object, rv) => {
          this.metrics.seen(type);
          if (type === 'DELETED') {
            const uid = normalizeEvent(object, stream.api)?.uid;
            if (uid) this.forget(uid);
          } else await this.observe(object, stream, undefined);
          if (rv) this.setPosition(stream.id, rv);
          await this.maybeFlush();
        },
        onBookmark: async (rv) => {
          this.setPosition(stream.id, rv);
        },
      },
    });
  }

  private setPosition(stream: string, rv: string): void {
    if (this.positions.get(stream) === rv) return;
    this.positions.set(stream, rv);
    this.pending.positionsDirty = true;
  }

  /**
   * The API server deleted the Event (or a relist no longer has it): its entry stays as a
   * tombstone for `recreatedWithinMs`, so an Event recreated under its name continues its
   * occurrences; older tombstones are dropped.
   */
  private forget(uid: string): void {
    const now = Date.now();
    const dead = this.ledger.tombstone(uid, now);
    if (dead) this.writeEntry(uid, dead);
    // The expiry scan walks every tombstone: once a minute, not once per deletion (a relist
    // that forgets thousands of Events would otherwise scan them thousands of times).
    if (now - this.expiredAt < 60_000) return;
    this.expiredAt = now;
    for (const old of this.ledger.expired(now - (this.opts.recreatedWithinMs ?? DEFAULT_RECREATED_WITHIN_MS))) this.drop(old);
  }

  private drop(uid: string): void {
    if (this.ledger.delete(uid)) this.pending.checkpoints.set(emittedKey(uid), null);
  }

  private remember(ev: NormalizedEvent, occurrence: number): void {
    const entry = { occurrence, ...(ev.namespace !== undefined ? { namespace: ev.namespace } : {}), ...(ev.name !== undefined ? { name: ev.name } : {}) };
    const continued = this.ledger.set(ev.uid, entry);
    if (continued !== undefined) this.pending.checkpoints.set(emittedKey(continued), null);
    this.writeEntry(ev.uid, entry);
  }

  private writeEntry(uid: string, entry: LedgerEntry): void {
    this.pending.checkpoints.set(emittedKey(uid), encodeCheckpointValue({ schemaVersion: EVENT_CHECKPOINT_SCHEMA_VERSION, ...entry, updatedAt: Date.now() }));
  }

  /** Decides, builds and stages; returns the event uid when the object had one. */
  private async observe(object: unknown, stream: EventStream, backfillFrom: number | undefined): Promise<string | undefined> {
    const d = decide(object, stream.api, this.ledger, { filter: this.filter, maxExpand: this.opts.maxExpand ?? 100, ...(backfillFrom !== undefined ? { backfillFrom } : {}) });
    this.metrics.outcome(d.kind, d.kind === 'filtered' ? d.reason : undefined);
    if (d.kind === 'invalid') return undefined;
    if (d.kind === 'baseline') this.remember(d.ev, d.ev.count);
    if (d.kind !== 'emit') return d.ev.uid;
    const workload = await this.resolveWorkload(d.ev);
    // Re-check after the await: another stream may have staged the same occurrence meanwhile.
    const again = decide(object, stream.api, this.ledger, { filter: this.filter, maxExpand: this.opts.maxExpand ?? 100 });
    if (again.kind !== 'emit') return d.ev.uid;
    const observedAt = Date.now();
    const maxMessageBytes = this.opts.maxMessageBytes ?? 16_384;
    const records = buildRecords(again.ev, again.plan, {
      observedAt,
      maxMessageBytes,
      ...(this.opts.cluster !== undefined ? { cluster: this.opts.cluster } : {}),
      ...(workload ? { workload } : {}),
    });
    if (this.opts.heapsterTopic) {
      const h = Buffer.from(JSON.stringify(toHeapsterEvent(again.ev, maxMessageBytes)));
      this.pending.heapster.push({ key: again.ev.uid, value: h, headers: {} });
      this.pending.bytes += h.length;
    }
    this.metrics.emitted(records.length, records.filter((r) => !r.inferred).map((r) => observedAt - r.occurredAt));
    const maxBytes = this.opts.maxBatchBytes ?? 512 * 1024;
    for (const r of records) {
      const msg = encodeEventRecord(r);
      this.pending.records.push(msg);
      this.pending.bytes += msg.value.length;
      // The ledger moves with every staged record, so a flush in between stays exact.
      this.remember(again.ev, r.occurrence);
      if (this.pending.bytes >= maxBytes) await this.flush();
    }
    return again.ev.uid;
  }

  /**
   * A relist hands over thousands of Events at once; looking their owners up one by one
   * would hold the list for minutes. Warm the resolver's cache with a few in parallel.
   */
  private prefetchWorkloads(items: unknown[], stream: EventStream, signal: AbortSignal): void {
    const resolver = this.opts.resolver;
    if (!resolver) return;
    let next = 0;
    const worker = async () => {
      while (next < items.length && !signal.aborted) {
        const ev = normalizeEvent(items[next++], stream.api);
        if (ev?.involvedObject.kind && ev.involvedObject.name) await resolver.resolve(ev.involvedObject).catch(() => undefined);
      }
    };
    for (let i = 0; i < Math.min(16, items.length); i++) void worker();
  }

  private async resolveWorkload(ev: NormalizedEvent): Promise<WorkloadRef | undefined> {
    const resolver = this.opts.resolver;
    if (!resolver || !ev.involvedObject.kind || !ev.involvedObject.name) return undefined;
    const timeout = this.opts.resolveTimeoutMs ?? 2_000;
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        resolver.resolve(ev.involvedObject),
        new Promise<undefined>((resolve) => {
          timer = setTimeout(() => resolve(undefined), timeout);
        }),
      ]);
    } catch {
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  private async maybeFlush(): Promise<void> {
    if (this.pending.records.length >= (this.opts.maxBatch ?? 500) || this.pending.bytes >= (this.opts.maxBatchBytes ?? 512 * 1024)) await this.flush();
  }

  /** Commits what is staged (serialised: one transaction at a time, in order). */
  flush(force = false): Promise<void> {
    const next = this.flushing.then(() => this.commitPending(force));
    this.flushing = next.catch(() => undefined);
    return next;
  }

  private async commitPending(force: boolean): Promise<void> {
    const p = this.pending;
    const heartbeatDue = this.lastCheckpointAt === undefined || Date.now() - this.lastCheckpointAt >= (this.opts.checkpointIntervalMs ?? 30_000);
    if (p.records.length === 0 && p.checkpoints.size === 0 && !p.positionsDirty && !heartbeatDue && !force) return;
    this.pending = emptyPending();
    const now = Date.now();
    const checkpoints: CheckpointEntry[] = [...p.checkpoints].map(([key, value]) => ({ key, value }));
    for (const [stream, rv] of this.positions) {
      checkpoints.push({ key: positionKey(stream), value: encodeCheckpointValue({ schemaVersion: EVENT_CHECKPOINT_SCHEMA_VERSION, stream, resourceVersion: rv, updatedAt: now }) });
    }
    const started = Date.now();
    await this.opts.output.commit({ records: p.records, heapster: p.heapster, checkpoints });
    this.lastCheckpointAt = Date.now();
    this.commitsInTerm++;
    this.metrics.committed(p.records.length, p.records.length + p.heapster.length + checkpoints.length, Date.now() - started);
  }
}

