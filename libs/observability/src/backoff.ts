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

/**
 * A start-up step against a dependency that may not be ready yet (a broker still electing
 * leaders, an API server restarting): retried with backoff for up to about `maxAttempts`
 * attempts (default ≈ 3 minutes), each retry logged with what is waited for.
 * Permanent errors (bad credentials, a missing permission) fail the boot at once.
 */
export function retryAtBoot<T>(
  what: string,
  fn: () => Promise<T>,
  opts: { isRetryable: (err: unknown) => boolean; logger: { warn(obj: object, msg: string): void }; signal?: AbortSignal; maxAttempts?: number },
): Promise<T> {
  return retry(() => fn(), {
    isRetryable: opts.isRetryable,
    maxAttempts: opts.maxAttempts ?? 20,
    backoff: { initialMs: 250, maxMs: 15_000, jitter: 0.3 },
    ...(opts.signal ? { signal: opts.signal } : {}),
    onRetry: (err, attempt, delayMs) => opts.logger.warn({ err: (err as Error).message, attempt: attempt + 1, delayMs }, `${what}: not ready yet; retrying`),
  });
}
