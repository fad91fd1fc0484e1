import { Option, type Command } from 'commander';

export type TopKind = 'nodes' | 'pods';
export type StorageSchema = 'heapster' | 'wide';

export interface TopOptions {
  influxUrl: string;
  database: string;
  schema: StorageSchema;
  /** Pods of this namespace only (no NAMESPACE column, like kubectl); undefined: every namespace. */
  namespace?: string;
  sort: 'cpu' | 'memory';
  /** Leave out the header line (kubectl's --no-headers). */
  noHeaders?: boolean;
  /** `json`: one JSON document `{ kind, items }` with the numbers in base units, for scripts. */
  output?: 'table' | 'json';
  /** Seconds: show min/avg/max over this window from the 1m rollups instead of the latest values. */
  sinceSeconds?: number;
  rpRaw: string;
  rp1m: string;
  cluster?: string;
}

interface Series {
  tags: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

const quoteIdent = (s: string) => `"${s.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
const quoteString = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** Measurement and field names of a metric in either storage layout. */
export function metricRef(schema: StorageSchema, metric: string, field: 'value' | 'mean' | 'min' | 'max'): { measurement: string; field: string } {
  const [prefix, suffix] = metric.split('/') as [string, string];
  if (schema === 'heapster') return { measurement: metric, field: field === 'value' ? 'value' : `value_${field}` };
  return { measurement: prefix, field: field === 'value' ? suffix : `${suffix}_${field}` };
}

/**
 * The InfluxQL behind `top`, one query per metric (cpu, memory), grouped by entity; for
 * `top nodes` of now also the nodes' allocatable cpu and memory (the CPU% and MEMORY%
 * columns, as kubectl computes them).
 */
export function topQueries(kind: TopKind, o: TopOptions): { cpu: string; memory: string; allocatable?: { cpu: string; memory: string } } {
  const type = kind === 'nodes' ? 'node' : 'pod';
  const groupBy = kind === 'nodes' ? ['nodename'] : ['namespace_name', 'pod_name'];
  const where = [`"type" = '${type}'`, ...(o.namespace && kind === 'pods' ? [`"namespace_name" = ${quoteString(o.namespace)}`] : []), ...(o.cluster ? [`"cluster_name" = ${quoteString(o.cluster)}`] : [])];
  const by = groupBy.map(quoteIdent).join(', ');
  const one = (metric: string) => {
    if (o.sinceSeconds === undefined) {
      const r = metricRef(o.schema, metric, 'value');
      return `SELECT last(${quoteIdent(r.field)}) AS "now" FROM ${quoteIdent(o.rpRaw)}.${quoteIdent(r.measurement)} WHERE ${where.join(' AND ')} AND time > now() - 5m GROUP BY ${by}`;
    }
    const f = (x: 'min' | 'max' | 'mean') => quoteIdent(metricRef(o.schema, metric, x).field);
    const m = quoteIdent(metricRef(o.schema, metric, 'min').measurement);
    return `SELECT min(${f('min')}) AS "min", mean(${f('mean')}) AS "avg", max(${f('max')}) AS "max" FROM ${quoteIdent(o.rp1m)}.${m} WHERE ${where.join(' AND ')} AND time > now() - ${Math.round(o.sinceSeconds)}s GROUP BY ${by}`;
  };
  const allocatable = kind === 'nodes' && o.sinceSeconds === undefined ? { cpu: one('cpu/node_allocatable'), memory: one('memory/node_allocatable') } : undefined;
  return { cpu: one('cpu/usage_rate'), memory: one('memory/working_set'), ...(allocatable ? { allocatable } : {}) };
}

async function influxql(url: string, db: string, q: string): Promise<Series[]> {
  const res = await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ db, q }) }).catch((err: unknown) => {
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, ...) is its cause.
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new Error(`cannot reach InfluxDB at ${url} (${cause?.code ?? cause?.message ?? String(err)}): is it running, and is --influx-url (INFLUX_URL) right?`);
  });
  if (!res.ok) throw new Error(`InfluxDB ${url} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  const body = (await res.json()) as { results: { series?: Series[]; error?: string }[] };
  const err = body.results.find((r) => r.error)?.error;
  if (err) throw new Error(`InfluxDB: ${err}`);
  return body.results[0]?.series ?? [];
}

/** Percent of `of` that `used` is (their latest values), or null when either is unknown. */
const share = (used: number[] | undefined, of: number[] | undefined): number | null => (used?.[0] !== undefined && of?.[0] ? (100 * used[0]) / of[0] : null);

const mib = (bytes: number) => `${Math.round(bytes / 1024 / 1024)}Mi`;
const milli = (m: number) => `${Math.round(m)}m`;

/** Runs the queries and returns the table lines, like `kubectl top`. */
export async function top(kind: TopKind, o: TopOptions): Promise<string[]> {
  const q = topQueries(kind, o);
  const run = (text: string | undefined) => (text === undefined ? Promise.resolve([]) : influxql(o.influxUrl, o.database, text));
  const [cpu, memory, cpuAllocatable, memoryAllocatable] = await Promise.all([run(q.cpu), run(q.memory), run(q.allocatable?.cpu), run(q.allocatable?.memory)]);
  const keyOf = (t: Record<string, string>) => (kind === 'nodes' ? t.nodename ?? '' : `${t.namespace_name ?? ''}\u0000${t.pod_name ?? ''}`);
  type Column = 'cpu' | 'memory' | 'cpuAllocatable' | 'memoryAllocatable';
  const rows = new Map<string, { tags: Record<string, string> } & Partial<Record<Column, number[]>>>();
  for (const [series, target] of [[cpu, 'cpu'], [memory, 'memory'], [cpuAllocatable, 'cpuAllocatable'], [memoryAllocatable, 'memoryAllocatable']] as const) {
    for (const s of series) {
      // A node with allocatable figures but no usage has nothing to show.
      if (target.endsWith('Allocatable') && !rows.has(keyOf(s.tags))) continue;
      const row = rows.get(keyOf(s.tags)) ?? { tags: s.tags };
      row[target] = (s.values[0] ?? []).slice(1).map(Number);
      rows.set(keyOf(s.tags), row);
    }
  }
  const sortIndex = o.sinceSeconds === undefined ? 0 : 1;
  const sorted = [...rows.values()].sort((a, b) => (b[o.sort]?.[sortIndex] ?? -1) - (a[o.sort]?.[sortIndex] ?? -1));
  if (o.output === 'json') {
    const num = (v: number | undefined) => (v !== undefined && Number.isFinite(v) ? v : null);
    const spread = (vals: number[] | undefined) => (o.sinceSeconds === undefined ? num(vals?.[0]) : { min: num(vals?.[0]), avg: num(vals?.[1]), max: num(vals?.[2]) });
    const items = sorted.map((r) => ({
      ...(kind === 'pods' ? { namespace: r.tags.namespace_name ?? '', name: r.tags.pod_name ?? '' } : { name: r.tags.nodename ?? '' }),
      cpuMillicores: spread(r.cpu),
      memoryBytes: spread(r.memory),
      ...(q.allocatable ? { cpuPercent: share(r.cpu, r.cpuAllocatable), memoryPercent: share(r.memory, r.memoryAllocatable) } : {}),
    }));
    return [JSON.stringify({ kind, ...(o.sinceSeconds !== undefined ? { sinceSeconds: o.sinceSeconds } : {}), items })];
  }
  const withNamespace = kind === 'pods' && o.namespace === undefined;
  const names = withNamespace ? ['NAMESPACE', 'NAME'] : ['NAME'];
  const percents = q.allocatable !== undefined;
  const header =
    o.sinceSeconds !== undefined ? [...names, 'CPU min/avg/max', 'MEMORY min/avg/max'] : percents ? [...names, 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)'] : [...names, 'CPU(cores)', 'MEMORY(bytes)'];
  const fmt = (vals: number[] | undefined, f: (n: number) => string) => (vals && vals.every((v) => Number.isFinite(v)) ? vals.map(f).join('/') : '<unknown>');
  const percent = (used: number[] | undefined, of: number[] | undefined) => {
    const p = share(used, of);
    return p === null ? '<unknown>' : `${Math.round(p)}%`;
  };
  const cells = sorted.map((r) => [
    ...(kind === 'nodes' ? [r.tags.nodename ?? ''] : [...(withNamespace ? [r.tags.namespace_name ?? ''] : []), r.tags.pod_name ?? '']),
    fmt(r.cpu, milli),
    ...(percents ? [percent(r.cpu, r.cpuAllocatable)] : []),
    fmt(r.memory, mib),
    ...(percents ? [percent(r.memory, r.memoryAllocatable)] : []),
  ]);
  if (cells.length === 0) return [`no ${kind} with data in ${o.database} (${o.sinceSeconds === undefined ? 'last 5 minutes' : `last ${o.sinceSeconds} s of 1m rollups`})`];
  const shown = o.noHeaders ? cells : [header, ...cells];
  const widths = header.map((_, i) => Math.max(...shown.map((c) => c[i]!.length)));
  return shown.map((c) => c.map((v, i) => v.padEnd(widths[i]!)).join('   ').trimEnd());
}

function parseSince(v: string): number {
  const m = /^(\d+)(s|m|h|d)$/.exec(v);
  if (!m) throw new Error(`--since "${v}" must be like 30m, 6h or 2d`);
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

export function registerTopCommand(program: Command): void {
  program
    .command('top')
    .description('CPU and memory of nodes or pods, like kubectl top, from heapstream\'s InfluxDB')
    .argument('<kind>', 'nodes | pods')
    .option('-n, --namespace <ns>', 'pods of this namespace (default: "default", like kubectl)')
    .option('-A, --all-namespaces', 'pods of every namespace', false)
    .addOption(new Option('--sort-by <by>', 'sort by').choices(['cpu', 'memory']).default('cpu'))
    .addOption(new Option('--sort <by>').choices(['cpu', 'memory']).hideHelp())
    .option('--no-headers', 'leave out the header line')
    .addOption(new Option('-o, --output <format>', 'table, or json for scripts').choices(['table', 'json']).default('table'))
    .option('--since <window>', 'min/avg/max over this window from the 1m rollups, e.g. 1h')
    .option('--influx-url <url>', 'InfluxDB', process.env.INFLUX_URL ?? 'http://127.0.0.1:18086')
    .option('--database <db>', 'InfluxDB database (INFLUX_DATABASE)', process.env.INFLUX_DATABASE ?? 'k8s')
    .addOption(new Option('--schema <layout>', 'storage layout the writer uses').choices(['heapster', 'wide']).default(process.env.HEAPSTREAM_STORAGE_SCHEMA ?? 'wide'))
    .option('--cluster <name>', 'only this cluster_name')
    .action(async (kind: string, o: { namespace?: string; allNamespaces: boolean; sortBy: 'cpu' | 'memory'; sort?: 'cpu' | 'memory'; headers: boolean; output: 'table' | 'json'; since?: string; influxUrl: string; database: string; schema: StorageSchema; cluster?: string }) => {
      if (kind !== 'nodes' && kind !== 'pods') throw new Error(`top: "${kind}" is not nodes or pods`);
      if (o.allNamespaces && o.namespace) throw new Error('top: -A and -n exclude each other');
      const lines = await top(kind, {
        influxUrl: o.influxUrl,
        database: o.database,
        schema: o.schema,
        // --sort: the name before --sort-by, still accepted.
        sort: o.sort ?? o.sortBy,
        rpRaw: process.env.INFLUX_RP_RAW ?? 'raw',
        rp1m: process.env.INFLUX_RP_1M ?? 'rollup_1m',
        ...(o.allNamespaces ? {} : { namespace: o.namespace ?? 'default' }),
        ...(o.headers ? {} : { noHeaders: true }),
        output: o.output,
        ...(o.since ? { sinceSeconds: parseSince(o.since) } : {}),
        ...(o.cluster ? { cluster: o.cluster } : {}),
      });
      console.log(lines.join('\n'));
    });
}
