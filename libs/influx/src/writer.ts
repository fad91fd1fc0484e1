import { setTimeout as sleep } from 'node:timers/promises';
import { retry, type BackoffOptions } from '@heapstream/observability';
import { InfluxWriteError, isRetryableWriteError, rejectReason, type RejectReason } from './errors.js';
import { postLines, type InfluxEndpoint } from './http.js';
import { droppedCount, linesNamedBy } from './line-parse.js';

export interface RejectedLine {
  /** Index into the `lines` given to `write`. */
  index: number;
  reason: RejectReason | 'influx:line-too-large';
  error: string;
}

export interface WriteResult {
  written: number;
  rejected: RejectedLine[];
  /** HTTP requests made, retries and bad-line search included. */
  requests: number;
}

export interface WriteHooks {
  /** Stops retrying (the last error is thrown): shutdown, or the partition moved away. */
  signal?: AbortSignal;
  onRetry?(err: unknown, attempt: number, delayMs: number): void;
  /** Called before retrying a write that answered 404: create the database again. */
  onNotFound?(): Promise<void>;
  /** After every request: for metrics. */
  onRequest?(outcome: 'ok' | 'rejected' | 'too-large' | 'retryable', seconds: number, lines: number): void;
}

export interface InfluxWriterOptions {
  maxLines: number;
  maxBytes: number;
  backoff: BackoffOptions;
  precision?: 'ns' | 'ms' | 's';
  /** Requests in flight at once (default 1). */
  concurrency?: number;
  /** Tests replace the transport. */
  post?: typeof postLines;
}

const MAX_ERROR_CHARS = 2_000;

/**
 * Writes line protocol to one InfluxDB without a buffer of its own (Kafka is the
 * buffer): splits into requests by lines and bytes, retries what may succeed later
 * until it does or `signal` aborts, splits on 413, and on 400 finds the bad lines,
 * writes the good ones and returns the bad ones with InfluxDB's reason. Writing a
 * line twice is harmless (same measurement, tags and time overwrite), which is what
 * makes the bad-line search and the retries safe.
 */
export class InfluxWriter {
  private readonly post: typeof postLines;

  constructor(
    private readonly endpoint: InfluxEndpoint,
    private readonly options: InfluxWriterOptions,
  ) {
    this.post = options.post ?? postLines;
  }

  async write(bucket: string, lines: readonly string[], hooks: WriteHooks = {}): Promise<WriteResult> {
    const result: WriteResult = { written: 0, rejected: [], requests: 0 };
    const chunks = this.chunks(lines);
    // A few requests in flight: InfluxDB indexes one while the next is on the wire.
    const worker = async () => {
      for (let next = chunks.next(); !next.done; next = chunks.next()) {
        const written = await this.isolate(bucket, lines, next.value, hooks, result);
        result.written += written;
      }
    };
    const workers = Array.from({ length: Math.max(1, this.options.concurrency ?? 1) }, worker);
    const settled = await Promise.allSettled(workers);
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return result;
  }

  /** Index ranges holding at most maxLines lines and about maxBytes bytes. */
  private *chunks(lines: readonly string[]): Generator<number[]> {
    let chunk: number[] = [];
    let bytes = 0;
    for (let i = 0; i < lines.length; i++) {
      const size = lines[i]!.length + 1;
      if (chunk.length > 0 && (chunk.length >= this.options.maxLines || bytes + size > this.options.maxBytes)) {
        yield chunk;
        chunk = [];
        bytes = 0;
      }
      chunk.push(i);
      bytes += size;
    }
    if (chunk.length) yield chunk;
  }

  private async isolate(bucket: string, lines: readonly string[], indices: number[], hooks: WriteHooks, result: WriteResult): Promise<number> {
    try {
      await this.postRetrying(bucket, lines, indices, hooks, result);
      return indices.length;
    } catch (err) {
      if (!(err instanceof InfluxWriteError) || (err.kind !== 'rejected' && err.kind !== 'too-large')) throw err;
      const error = err.message.slice(0, MAX_ERROR_CHARS);
      const rejectAll = (reason: RejectedLine['reason']) => {
        for (const index of indices) result.rejected.push({ index, reason, error });
        return 0;
      };
      if (indices.length === 1) return rejectAll(err.kind === 'too-large' ? 'influx:line-too-large' : rejectReason(err.message));
      const mid = indices.length >> 1;
      if (err.kind === 'too-large') {
        return (await this.isolate(bucket, lines, indices.slice(0, mid), hooks, result)) + (await this.isolate(bucket, lines, indices.slice(mid), hooks, result));
      }
      const reason = rejectReason(err.message);
      // 1.x says how many points it dropped: all of them means no search is needed.
      const dropped = droppedCount(err.message);
      if (dropped !== undefined && dropped >= indices.length) return rejectAll(reason);
      const named = linesNamedBy(err.body ?? err.message, lines, indices);
      if (named.size === indices.length) return rejectAll(reason);
      if (named.size > 0) {
        for (const index of named) result.rejected.push({ index, reason, error });
        return this.isolate(bucket, lines, indices.filter((i) => !named.has(i)), hooks, result);
      }
      // The message names no line: halve until the bad lines are alone.
      return (await this.isolate(bucket, lines, indices.slice(0, mid), hooks, result)) + (await this.isolate(bucket, lines, indices.slice(mid), hooks, result));
    }
  }

  private async postRetrying(bucket: string, lines: readonly string[], indices: number[], hooks: WriteHooks, result: WriteResult): Promise<void> {
    // One join, not a rope of += that is flattened (and copied again) when sent.
    const chunk = new Array<string>(indices.length + 1);
    for (let k = 0; k < indices.length; k++) chunk[k] = lines[indices[k]!]!;
    chunk[indices.length] = '';
    const body = chunk.join('\n');
    let waitMore = 0;
    let setupFirst = false;
    await retry(
      async () => {
        // Retry-After asks for longer than our backoff: wait the difference.
        if (waitMore > 0) await sleep(waitMore, undefined, { signal: hooks.signal }).catch(() => undefined);
        waitMore = 0;
        if (hooks.signal?.aborted) throw new InfluxWriteError('retryable', 'write abandoned: stopping');
        if (setupFirst && hooks.onNotFound) await hooks.onNotFound();
        setupFirst = false;
        const started = performance.now();
        result.requests++;
        try {
          await this.post(this.endpoint, bucket, body, this.options.precision ?? 'ns');
          hooks.onRequest?.('ok', (performance.now() - started) / 1000, indices.length);
        } catch (err) {
          const kind = err instanceof InfluxWriteError ? err.kind : 'retryable';
          hooks.onRequest?.(kind === 'rejected' || kind === 'too-large' ? kind : 'retryable', (performance.now() - started) / 1000, indices.length);
          throw err;
        }
      },
      {
        isRetryable: isRetryableWriteError,
        signal: hooks.signal,
        backoff: this.options.backoff,
        onRetry: (err, attempt, delayMs) => {
          if (err instanceof InfluxWriteError) {
            if (err.retryAfterMs !== undefined && err.retryAfterMs > delayMs) waitMore = err.retryAfterMs - delayMs;
            if (err.kind === 'not-found') setupFirst = true;
          }
          hooks.onRetry?.(err, attempt, delayMs);
        },
      },
    );
  }
}
