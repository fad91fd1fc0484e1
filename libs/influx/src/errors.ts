/**
 * How a failed write is handled:
 * - `retryable`: InfluxDB busy or away (429, 5xx, timeout, connection refused): back off
 *   (honouring Retry-After) and write the same lines again; never a drop.
 * - `too-large`: 413: split the batch and write the halves.
 * - `rejected`: 400/422: some lines are bad; find them, write the rest, hand them back.
 * - `not-found`: the database or bucket is missing: set it up again, then retry.
 * - `unauthorized`: 401/403: a configuration problem, retried (the data is fine) and
 *   reported through readiness.
 */
export type WriteErrorKind = 'retryable' | 'too-large' | 'rejected' | 'not-found' | 'unauthorized';

export class InfluxWriteError extends Error {
  override readonly name = 'InfluxWriteError';
  constructor(
    readonly kind: WriteErrorKind,
    message: string,
    readonly status?: number,
    /** From Retry-After: the least time to wait before the next attempt. */
    readonly retryAfterMs?: number,
    /** The response body, for `rejected`. */
    readonly body?: string,
  ) {
    super(message);
  }
}

export function isRetryableWriteError(err: unknown): boolean {
  return err instanceof InfluxWriteError ? err.kind === 'retryable' || err.kind === 'not-found' || err.kind === 'unauthorized' : isNetworkError(err);
}

/** fetch rejects with TypeError('fetch failed') on refused/reset connections, AbortError/TimeoutError on timeout. */
export function isNetworkError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  return err.name === 'TimeoutError' || err.name === 'AbortError' || err instanceof TypeError;
}

/** Retry-After is either delay-seconds or an HTTP date. */
export function parseRetryAfter(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Response status (and body) -> the error kind, or undefined for success. */
export function classifyResponse(status: number, body: string): WriteErrorKind | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (status === 413) return 'too-large';
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not-found';
  if (status === 429 || status >= 500) return 'retryable';
  if (status === 400 || status === 422) return 'rejected';
  // 408 and anything else unexpected: the data is not known to be bad, so keep it.
  void body;
  return 'retryable';
}

export type RejectReason =
  | 'influx:field-type-conflict'
  | 'influx:parse-error'
  | 'influx:beyond-retention'
  | 'influx:max-values-per-tag'
  | 'influx:max-series'
  | 'influx:rejected';

/** A short machine-readable reason from InfluxDB's error text. */
export function rejectReason(message: string): RejectReason {
  if (/field type conflict/i.test(message)) return 'influx:field-type-conflict';
  if (/unable to parse|invalid (field|tag|measurement|timestamp|number|boolean)|bad timestamp/i.test(message)) return 'influx:parse-error';
  if (/beyond retention/i.test(message)) return 'influx:beyond-retention';
  if (/max-values-per-tag/i.test(message)) return 'influx:max-values-per-tag';
  if (/max-series-per-database/i.test(message)) return 'influx:max-series';
  return 'influx:rejected';
}
