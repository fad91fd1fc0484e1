import { setTimeout as sleep } from 'node:timers/promises';

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 0..1: fraction of each delay drawn at random, so replicas do not retry in step. */
  jitter: number;
}

export const defaultBackoff: BackoffOptions = { initialMs: 200, maxMs: 30_000, jitter: 0.3 };

/** Delay before attempt n (0-based): exponential, capped, with jitter. */
export function backoffDelay(attempt: number, opts: BackoffOptions = defaultBackoff, random = Math.random): number {
  const base = Math.min(opts.maxMs, opts.initialMs * 2 ** attempt);
  return Math.round(base * (1 - opts.jitter + opts.jitter * random()));
}

/**
 * Retries `fn` while `isRetryable(err)` holds, backing off between attempts,
 * until `signal` aborts. Permanent errors are thrown at once.
 */
export async function retry<T>(
  fn: (attempt: number) => Promise<T>,
  opts: { isRetryable: (err: unknown) => boolean; signal?: AbortSignal; backoff?: BackoffOptions; onRetry?: (err: unknown, attempt: number, delayMs: number) => void; maxAttempts?: number },
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (err) {
      if (!opts.isRetryable(err) || opts.signal?.aborted || attempt + 1 >= (opts.maxAttempts ?? Infinity)) throw err;
      const delay = backoffDelay(attempt, opts.backoff);
      opts.onRetry?.(err, attempt, delay);
      await sleep(delay, undefined, { signal: opts.signal }).catch(() => undefined);
      if (opts.signal?.aborted) throw err;
    }
  }
}
