import { parseSummary, scrapeToPoints, HIGH_CARDINALITY_TAGS } from '@heapstream/metric-model';
import type { MetricPoint } from '@heapstream/contracts';

/*
 * What the pipeline should have stored, computed from the simulator's ground truth
 * (what each kubelet answered), and how to read what InfluxDB holds. The comparisons
 * are in the test; these are the pieces it needs.
 */

export interface ServedSample {
  node: string;
  sampleMs: number;
  /** The body exactly as the kubelet served it. */
  summary: object;
  /** Its points, parsed as the scraper would with this scrape window. */
  points(window?: { startedAt: number; finishedAt: number }): MetricPoint[];
}

interface ServeRecord {
  path: string;
  outcome: string;
  sampleMs?: number;
}

/** Every /stats/summary sample a node answered successfully, as the points it carried. */
export async function servedSamples(controlUrl: string, node: string, cluster: string): Promise<ServedSample[]> {
  const { records } = (await (await fetch(`${controlUrl}/truth/served?node=${encodeURIComponent(node)}`)).json()) as { records: ServeRecord[] };
  const times = [...new Set(records.filter((r) => r.path === '/stats/summary' && r.outcome === 'ok' && r.sampleMs !== undefined).map((r) => r.sampleMs!))].sort((a, b) => a - b);
  const out: ServedSample[] = [];
  for (const t of times) {
    const { summary } = (await (await fetch(`${controlUrl}/truth?node=${encodeURIComponent(node)}&time=${t}`)).json()) as { summary: unknown };
    out.push({ node, sampleMs: t, summary: summary as object, points: (w) => scrapeToPoints(parseSummary(summary as object, { cluster, node, ...w }).scrape) });
  }
  return out;
}

const dropped = new Set<string>(HIGH_CARDINALITY_TAGS);

/** The identity of a stored point: measurement, the tags InfluxDB keeps, timestamp. */
export function pointKey(metric: string, tags: Record<string, string | null | undefined>, type: string, timestamp: number): string {
  const kept = Object.entries(tags)
    .filter(([k, v]) => v && !dropped.has(k) && k !== 'cluster_name' && k !== 'type')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return `${metric}|${type}|${kept}|${timestamp}`;
}

export interface InfluxRow {
  time: number;
  tags: Record<string, string | null>;
  fields: Record<string, number | string | null>;
}

/** Rows of a measurement as time + tag + field columns (InfluxQL over /query, epoch ms). */
export async function influxRows(url: string, db: string, rp: string, measurement: string, where: string): Promise<InfluxRow[]> {
  const q = `SELECT * FROM "${rp}"."${measurement}" WHERE ${where}`;
  const res = await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ db, q, epoch: 'ms' }) });
  const body = (await res.json()) as { results: { series?: { columns: string[]; values: unknown[][] }[]; error?: string }[] };
  if (body.results[0]?.error) throw new Error(`${q}: ${body.results[0].error}`);
  const series = body.results[0]?.series?.[0];
  if (!series) return [];
  const tagKeys = await tagKeysOf(url, db, measurement);
  return series.values.map((row) => {
    const tags: Record<string, string | null> = {};
    const fields: Record<string, number | string | null> = {};
    series.columns.forEach((c, i) => {
      if (c === 'time') return;
      if (tagKeys.has(c)) tags[c] = row[i] as string | null;
      else fields[c] = row[i] as number | string | null;
    });
    return { time: row[0] as number, tags, fields };
  });
}

const tagKeyCache = new Map<string, Set<string>>();
async function tagKeysOf(url: string, db: string, measurement: string): Promise<Set<string>> {
  const cacheKey = `${db}\u0000${measurement}`;
  const cached = tagKeyCache.get(cacheKey);
  if (cached) return cached;
  const res = await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ db, q: `SHOW TAG KEYS FROM "${measurement}"` }) });
  const body = (await res.json()) as { results: { series?: { values: string[][] }[] }[] };
  const keys = new Set((body.results[0]?.series?.[0]?.values ?? []).map((v) => v[0]!));
  tagKeyCache.set(cacheKey, keys);
  return keys;
}

export function forgetTagKeys(): void {
  tagKeyCache.clear();
}
