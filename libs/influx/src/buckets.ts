import type { TierTarget } from './config.js';
import { authHeaders, describeFetchError, type InfluxEndpoint } from './http.js';
import { InfluxWriteError } from './errors.js';

export interface BucketChange {
  bucket: string;
  action: 'created' | 'altered' | 'unchanged';
  /** Seconds; 0 = forever. */
  everySeconds: number;
  before?: number;
}

interface Bucket {
  id: string;
  name: string;
  retentionRules?: { type: string; everySeconds: number }[];
}

async function api<T>(ep: InfluxEndpoint, method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${ep.url.replace(/\/$/, '')}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...authHeaders(ep) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(ep.timeoutMs),
    });
  } catch (err) {
    throw new InfluxWriteError('retryable', `InfluxDB unreachable: ${describeFetchError(err)}`);
  }
  const text = await res.text();
  if (!res.ok) throw new Error(`InfluxDB ${method} ${path.split('?')[0]}: ${res.status} ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : {}) as T;
}

/**
 * InfluxDB 2.x: one bucket per tier with the configured retention, created when missing
 * and patched when its retention differs. (3.x has no buckets API: set INFLUX_SETUP=false
 * and create databases with its own tools.)
 */
export async function ensureBuckets(ep: InfluxEndpoint, targets: readonly TierTarget[]): Promise<BucketChange[]> {
  if (!ep.org) throw new Error('INFLUX_ORG is required to create buckets');
  const orgs = await api<{ orgs?: { id: string }[] }>(ep, 'GET', `/api/v2/orgs?org=${encodeURIComponent(ep.org)}`);
  const orgID = orgs.orgs?.[0]?.id;
  if (!orgID) throw new Error(`organization ${ep.org} not found`);
  const changes: BucketChange[] = [];
  for (const t of targets) {
    const everySeconds = Math.round(t.retentionMs / 1000);
    const retentionRules = everySeconds === 0 ? [] : [{ type: 'expire', everySeconds }];
    const found = await api<{ buckets?: Bucket[] }>(ep, 'GET', `/api/v2/buckets?orgID=${orgID}&name=${encodeURIComponent(t.bucket)}`);
    const bucket = found.buckets?.find((b) => b.name === t.bucket);
    if (!bucket) {
      await api(ep, 'POST', '/api/v2/buckets', { orgID, name: t.bucket, retentionRules });
      changes.push({ bucket: t.bucket, action: 'created', everySeconds });
      continue;
    }
    const before = bucket.retentionRules?.find((r) => r.type === 'expire')?.everySeconds ?? 0;
    if (before !== everySeconds) {
      await api(ep, 'PATCH', `/api/v2/buckets/${bucket.id}`, { retentionRules });
      changes.push({ bucket: t.bucket, action: 'altered', everySeconds, before });
    } else changes.push({ bucket: t.bucket, action: 'unchanged', everySeconds });
  }
  return changes;
}
