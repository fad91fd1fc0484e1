/** Retry with exponential backoff and full jitter; only errors `isRetryable` accepts are retried. */

export interface RetryOptions {
  /** Attempts in total; Infinity retries until `signal` aborts. */
  attempts: number;
  baseMs: number;
  maxMs: number;
  isRetryable: (err: unknown) => boolean;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export async function retry<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= opts.attempts || !opts.isRetryable(err) || opts.signal?.aborted) throw err;
      const cap = Math.min(opts.maxMs, opts.baseMs * 2 ** (attempt - 1));
      const delayMs = Math.round(cap / 2 + (Math.random() * cap) / 2);
      opts.onRetry?.(err, attempt, delayMs);
      await sleep(delayMs, opts.signal);
    }
  }
}
