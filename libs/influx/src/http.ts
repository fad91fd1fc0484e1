import { constants, gzipSync } from 'node:zlib';
import { classifyResponse, InfluxWriteError, parseRetryAfter } from './errors.js';

/** How to reach one InfluxDB (1.8 with its 2.x compatibility API, 2.x or 3.x). */
export interface InfluxEndpoint {
  url: string;
  /** 2.x/3.x token, `user:password` on 1.x, '' without auth. */
  token: string;
  org: string;
  timeoutMs: number;
  gzip: boolean;
}

/** Below this size gzip costs more than it saves. */
const GZIP_MIN_BYTES = 1024;

function base(url: string): string {
  return url.endsWith('/') ? url.slice(0, -1) : url;
}

export function authHeaders(ep: Pick<InfluxEndpoint, 'token'>, forInfluxQl = false): Record<string, string> {
  if (!ep.token) return {};
  // 1.x /query takes Basic for user:password; /api/v2/* takes `Token user:password`.
  if (forInfluxQl && ep.token.includes(':')) return { authorization: `Basic ${Buffer.from(ep.token).toString('base64')}` };
  return { authorization: `Token ${ep.token}` };
}

/** The message inside an InfluxDB error body: `{"error": ...}` (1.x, 3.x) or `{"message": ...}` (2.x). */
function errorMessage(body: string): string {
  try {
    const json = JSON.parse(body) as { error?: string; message?: string; data?: unknown };
    // 3.x lists the bad lines in `data`; keep the whole body so they can be matched.
    if (json.data !== undefined) return body;
    return json.error ?? json.message ?? body;
  } catch {
    return body;
  }
}

/**
 * One POST /api/v2/write of ready line protocol. Resolves when InfluxDB acknowledged
 * (204); otherwise throws an InfluxWriteError saying what to do next. No retries here.
 */
export async function postLines(ep: InfluxEndpoint, bucket: string, body: string, precision: 'ns' | 'ms' | 's' = 'ns'): Promise<void> {
  const params = new URLSearchParams({ bucket, precision });
  if (ep.org) params.set('org', ep.org);
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', ...authHeaders(ep) };
  let payload = Buffer.from(body, 'utf8');
  if (ep.gzip && payload.length >= GZIP_MIN_BYTES) {
    // At once, not on the libuv pool: Node's async zlib works in 16 KiB steps and cost
    // 1.5-8x the CPU (libs/kafka/src/compression.ts); a request body is a few MiB at most
    // (INFLUX_BATCH_BYTES), tens of milliseconds at level 1.
    payload = gzipSync(payload, { level: constants.Z_BEST_SPEED });
    headers['content-encoding'] = 'gzip';
  }
  let res: Response;
  try {
    res = await fetch(`${base(ep.url)}/api/v2/write?${params}`, { method: 'POST', headers, body: payload, signal: AbortSignal.timeout(ep.timeoutMs) });
  } catch (err) {
    throw new InfluxWriteError('retryable', `InfluxDB unreachable: ${describeFetchError(err)}`);
  }
  if (res.status === 204 || res.status === 200) {
    await res.body?.cancel();
    return;
  }
  const text = await res.text().catch(() => '');
  const kind = classifyResponse(res.status, text) ?? 'retryable';
  throw new InfluxWriteError(kind, `InfluxDB ${res.status}: ${errorMessage(text).slice(0, 4000)}`, res.status, parseRetryAfter(res.headers.get('retry-after')), text);
}

export function describeFetchError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timeout';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}

export interface InfluxQlSeries {
  name?: string;
  columns: string[];
  values?: unknown[][];
  tags?: Record<string, string>;
}

/** One InfluxQL statement through the 1.x /query endpoint; throws on any error. */
export async function influxQl(ep: Pick<InfluxEndpoint, 'url' | 'token' | 'timeoutMs'>, q: string, db?: string): Promise<InfluxQlSeries[]> {
  const params = new URLSearchParams({ q, epoch: 'ms' });
  if (db) params.set('db', db);
  let res: Response;
  try {
    res = await fetch(`${base(ep.url)}/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...authHeaders(ep, true) },
      body: params,
      signal: AbortSignal.timeout(ep.timeoutMs),
    });
  } catch (err) {
    throw new InfluxWriteError('retryable', `InfluxDB unreachable: ${describeFetchError(err)}`);
  }
  const text = await res.text();
  if (!res.ok) {
    throw new InfluxWriteError(classifyResponse(res.status, text) ?? 'retryable', `InfluxQL ${res.status}: ${errorMessage(text)}`, res.status);
  }
  const json = JSON.parse(text) as { results?: { series?: InfluxQlSeries[]; error?: string }[]; error?: string };
  const error = json.error ?? json.results?.find((r) => r.error)?.error;
  if (error) throw new Error(`InfluxQL: ${error} (in: ${q})`);
  return json.results?.[0]?.series ?? [];
}

/** `"name"` with InfluxQL escaping. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Reachable and answering: GET /ping (1.x, 2.x and 3.x all serve it). */
export async function ping(ep: Pick<InfluxEndpoint, 'url' | 'token'>, timeoutMs = 2_000): Promise<{ ok: boolean; detail: string }> {
  try {
    const res = await fetch(`${base(ep.url)}/ping`, { headers: authHeaders(ep), signal: AbortSignal.timeout(timeoutMs) });
    await res.body?.cancel();
    return res.status < 300 ? { ok: true, detail: `ping ${res.status}` } : { ok: false, detail: `ping answered ${res.status}` };
  } catch (err) {
    return { ok: false, detail: `unreachable: ${describeFetchError(err)}` };
  }
}
