import { Backoff, sleep } from './backoff.js';
import { KubeApiError, type KubeHttp } from './http.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** What a list+watch consumer implements. Calls are serial and awaited (backpressure). */
export interface ListWatchHandler {
  /** A complete, consistent list (all pages) at `resourceVersion`: first start, or a relist after 410. */
  onSnapshot(items: unknown[], resourceVersion: string): Promise<void>;
  onEvent(type: WatchEventType, object: unknown, resourceVersion: string | undefined): Promise<void>;
  /** The server says everything up to `resourceVersion` has been sent. */
  onBookmark(resourceVersion: string): Promise<void>;
}

export type ListWatchStatus =
  | { type: 'listed'; items: number; resourceVersion: string; durationMs: number }
  | { type: 'watch-established'; resourceVersion: string }
  | { type: 'watch-ended'; reason: 'closed' | 'silent' | 'gone' | 'error'; error?: Error };

export interface ListWatchOptions {
  http: Pick<KubeHttp, 'request' | 'stream'>;
  handler: ListWatchHandler;
  /** Collection path, e.g. `/apis/events.k8s.io/v1/events` or `/api/v1/namespaces/ns/events`. */
  path: string;
  fieldSelector?: string;
  labelSelector?: string;
  pageSize?: number;
  /** Server-side watch timeout; a little jitter is added so replicas do not reconnect together. */
  watchTimeoutSeconds?: number;
  /** No byte (event or bookmark) for this long means the watch is dead: abort and resume. */
  silenceTimeoutMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  onStatus?: (status: ListWatchStatus) => void;
}

/** An error thrown by the handler: list+watch stops and hands it to its caller. */
export class HandlerError extends Error {
  constructor(override readonly cause: unknown) {
    super(`list+watch handler failed: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'HandlerError';
  }
}

class SilentWatchError extends Error {}

interface ListPage {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: unknown[];
}

const rvOf = (obj: unknown): string | undefined => (obj as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion;

/**
 * List then watch one collection, resuming from the last resourceVersion on every
 * reconnect, relisting on 410 Gone, requesting bookmarks and restarting a watch that
 * went silent. Generic: events, nodes, pods, namespaces.
 */
export class ListWatch {
  /** The resourceVersion everything up to which was handed to the handler. */
  resourceVersion: string | undefined;
  private watching = false;
  private lastDataAt = 0;

  constructor(private readonly opts: ListWatchOptions) {}

  /** True while a watch stream is open and has not gone silent. */
  get established(): boolean {
    return this.watching;
  }

  /** Milliseconds since the stream last sent anything (events or bookmarks). */
  get silenceMs(): number {
    return this.watching ? Date.now() - this.lastDataAt : Infinity;
  }

  /**
   * Runs until `signal` aborts (resolves) or the handler throws (rejects with
   * HandlerError). `resumeFrom` skips the initial list; undefined lists first.
   */
  async run(signal: AbortSignal, resumeFrom?: string): Promise<void> {
    this.resourceVersion = resumeFrom;
    const backoff = new Backoff(this.opts.backoffInitialMs ?? 500, this.opts.backoffMaxMs ?? 30_000);
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.list(signal);
        await this.watch(signal);
        backoff.reset();
        this.status({ type: 'watch-ended', reason: 'closed' });
      } catch (err) {
        this.watching = false;
        if (err instanceof HandlerError) throw err;
        if (signal.aborted) return;
        if (err instanceof KubeApiError && err.isGone) {
          this.status({ type: 'watch-ended', reason: 'gone', error: err });
          this.resourceVersion = undefined;
          continue;
        }
        if (err instanceof SilentWatchError) {
          this.status({ type: 'watch-ended', reason: 'silent', error: err });
          continue;
        }
        this.status({ type: 'watch-ended', reason: 'error', error: err as Error });
        await sleep(backoff.next(), signal);
      } finally {
        this.watching = false;
      }
    }
  }

  private status(s: ListWatchStatus): void {
    this.opts.onStatus?.(s);
  }

  private async list(signal: AbortSignal): Promise<void> {
    const started = Date.now();
    const items: unknown[] = [];
    let cont: string | undefined;
    let rv: string | undefined;
    do {
      const page = await this.opts.http.request<ListPage>('GET', this.opts.path, {
        signal,
        timeoutMs: 60_000,
        query: { limit: this.opts.pageSize ?? 500, continue: cont, fieldSelector: this.opts.fieldSelector, labelSelector: this.opts.labelSelector },
      });
      rv ??= page.metadata?.resourceVersion;
      items.push(...(page.items ?? []));
      cont = page.metadata?.continue || undefined;
    } while (cont);
    if (!rv) throw new Error(`list ${this.opts.path}: no resourceVersion in the answer`);
    try {
      await this.opts.handler.onSnapshot(items, rv);
    } catch (err) {
      throw new HandlerError(err);
    }
    this.resourceVersion = rv;
    this.status({ type: 'listed', items: items.length, resourceVersion: rv, durationMs: Date.now() - started });
  }

  private async watch(outer: AbortSignal): Promise<void> {
    const local = new AbortController();
    const signal = AbortSignal.any([outer, local.signal]);
    const silenceMs = this.opts.silenceTimeoutMs ?? 90_000;
    this.lastDataAt = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - this.lastDataAt > silenceMs) local.abort(new SilentWatchError(`no data for ${silenceMs} ms`));
    }, Math.min(1_000, silenceMs / 4));
    timer.unref();
    const timeout = this.opts.watchTimeoutSeconds ?? 300;
    const rv = this.resourceVersion!;
    try {
      await this.opts.http.stream(
        this.opts.path,
        {
          signal,
          query: {
            watch: true,
            resourceVersion: rv,
            allowWatchBookmarks: true,
            timeoutSeconds: timeout + Math.floor(Math.random() * Math.max(1, timeout / 10)),
            fieldSelector: this.opts.fieldSelector,
            labelSelector: this.opts.labelSelector,
          },
        },
        (line) => this.onLine(line),
        {
          onOpen: () => {
            this.watching = true;
            this.lastDataAt = Date.now();
            this.status({ type: 'watch-established', resourceVersion: rv });
          },
          onData: () => {
            this.lastDataAt = Date.now();
          },
        },
      );
    } catch (err) {
      if (local.signal.aborted && !outer.aborted) throw local.signal.reason;
      throw err;
    } finally {
      clearInterval(timer);
    }
  }

  private async onLine(line: unknown): Promise<void> {
    const { type, object } = line as { type?: string; object?: unknown };
    if (type === 'ERROR') {
      const s = object as { code?: number; reason?: string; message?: string } | undefined;
      throw new KubeApiError(s?.code ?? 500, s?.reason, `watch ${this.opts.path}: ${s?.message ?? 'error event'}`);
    }
    const rv = rvOf(object);
    try {
      if (type === 'BOOKMARK') {
        if (rv) await this.opts.handler.onBookmark(rv);
      } else if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') {
        await this.opts.handler.onEvent(type, object, rv);
      } else return;
    } catch (err) {
      throw new HandlerError(err);
    }
    if (rv) this.resourceVersion = rv;
  }
}
