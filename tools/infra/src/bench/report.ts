import { quantile } from '@heapstream/observability';

/*
 * The pipeline bench's figures and tables: pure functions over what a run measured, so
 * the table's shape is unit-tested and the runner only collects numbers.
 */

/** CPU and memory of one process over the measured interval. */
export interface ProcessFigures {
  name: string;
  cpuSeconds: number;
  peakRssBytes: number;
}

/** What one run of one collector (heapstream in one layout, or Telegraf) measured. */
export interface RunFigures {
  collector: string;
  rounds: number;
  /** The collector's own processes (heapstream: scraper, aggregator, storage-writer). */
  processes: ProcessFigures[];
  /** InfluxDB's and Kafka's CPU-s over the same interval, and InfluxDB's peak RSS. */
  influxCpuSeconds: number;
  influxPeakRssBytes: number;
  kafkaCpuSeconds: number;
  /** From InfluxDB's own write statistics over the interval. */
  valuesWritten: number;
  linesWritten: number;
  /** `SHOW SERIES EXACT CARDINALITY` per retention policy of the collector's database. */
  seriesByRp: Record<string, number>;
  /** Values and lines written per retention policy over the interval. */
  writtenByRp: Record<string, { values: number; lines: number }>;
  /** Simulated nodes, for the per-node figures. */
  nodes: number;
  diskBytes: number;
  /** Scrape rounds, from the simulator's log of answered requests: last answer − aligned round start. */
  roundMs: number[];
  /** Scrape → queryable in InfluxDB for sentinel nodes. */
  latencyMs: number[];
  /** Seconds from the last round's end until every consumer group had no lag (0 for Telegraf). */
  drainSeconds: number;
  /** Node samples the kubelets served vs node samples found in InfluxDB. */
  expectedNodeSamples: number;
  foundNodeSamples: number;
}

/** Nearest-rank quantile, the one the services' own figures use. */
export const quantileOf = quantile;

export const median = (values: readonly number[]): number => {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export const collectorCpu = (r: RunFigures): number => r.processes.reduce((s, p) => s + p.cpuSeconds, 0);
export const collectorRss = (r: RunFigures): number => r.processes.reduce((s, p) => s + p.peakRssBytes, 0);

const MiB = 1024 * 1024;
const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
const thousands = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '-');

/** A plain text table, columns padded; the first column left-aligned, the rest right-aligned. */
export function renderTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

/** One table per run: a row per process, then the collector's total, then the servers. */
export function runTable(r: RunFigures): string {
  const perRound = (cpu: number) => cpu / r.rounds;
  const perMillion = (cpu: number) => (r.valuesWritten > 0 ? cpu / (r.valuesWritten / 1e6) : Number.NaN);
  const rows = r.processes.map((p) => [p.name, fixed(perRound(p.cpuSeconds), 2), fixed(perMillion(p.cpuSeconds), 2), fixed(p.peakRssBytes / MiB, 0)]);
  rows.push([`${r.collector} total`, fixed(perRound(collectorCpu(r)), 2), fixed(perMillion(collectorCpu(r)), 2), fixed(collectorRss(r) / MiB, 0)]);
  rows.push(['influxdb', fixed(perRound(r.influxCpuSeconds), 2), fixed(perMillion(r.influxCpuSeconds), 2), fixed(r.influxPeakRssBytes / MiB, 0)]);
  rows.push(['kafka', fixed(perRound(r.kafkaCpuSeconds), 2), fixed(perMillion(r.kafkaCpuSeconds), 2), '']);
  const table = renderTable(['process', 'CPU-s/round', 'CPU-s/M values', 'peak RSS MiB'], rows);
  const series = Object.entries(r.seriesByRp)
    .map(([rp, n]) => `${rp} ${thousands(n)}`)
    .join(', ');
  const lost = r.expectedNodeSamples - r.foundNodeSamples;
  const perNode = (n: number) => fixed(n / r.rounds / r.nodes, 1);
  const tiers = Object.entries(r.writtenByRp)
    .map(([rp, w]) => `${rp} ${perNode(w.values)} values / ${perNode(w.lines)} lines / ${fixed((r.seriesByRp[rp] ?? 0) / r.nodes, 1)} series`)
    .join('; ');
  const facts = [
    `values/round ${thousands(r.valuesWritten / r.rounds)}, lines/round ${thousands(r.linesWritten / r.rounds)}, series ${series || '-'}, disk/round ${fixed(r.diskBytes / r.rounds / MiB, 1)} MiB`,
    `per node and round: ${tiers || '-'}`,
    `round p50/p99 ${fixed(quantileOf(r.roundMs, 0.5) / 1000, 2)}/${fixed(quantileOf(r.roundMs, 0.99) / 1000, 2)} s, scrape→queryable p50/p99 ${fixed(quantileOf(r.latencyMs, 0.5) / 1000, 2)}/${fixed(quantileOf(r.latencyMs, 0.99) / 1000, 2)} s, drained ${fixed(r.drainSeconds, 1)} s after the last round`,
    `node samples served ${r.expectedNodeSamples}, stored ${r.foundNodeSamples}, lost ${Math.max(0, lost)}`,
  ];
  return `${r.collector}, ${r.rounds} rounds\n${table}\n${facts.join('\n')}`;
}

/** A/B pairs: each figure's ratio heapstream / Telegraf per pair, and the medians. */
export function comparisonTable(pairs: { a: RunFigures; b: RunFigures }[]): string {
  const figures: [string, (r: RunFigures) => number, number][] = [
    ['collector CPU-s/round', (r) => collectorCpu(r) / r.rounds, 2],
    ['collector peak RSS MiB', (r) => collectorRss(r) / MiB, 0],
    ['InfluxDB CPU-s/round', (r) => r.influxCpuSeconds / r.rounds, 2],
    ['InfluxDB peak RSS MiB', (r) => r.influxPeakRssBytes / MiB, 0],
    ['Kafka CPU-s/round', (r) => r.kafkaCpuSeconds / r.rounds, 2],
    ['values/round', (r) => r.valuesWritten / r.rounds, 0],
    ['series', (r) => Object.values(r.seriesByRp).reduce((s, n) => s + n, 0), 0],
  ];
  const a = pairs[0]?.a.collector ?? 'A';
  const b = pairs[0]?.b.collector ?? 'B';
  const rows = figures.map(([name, f, digits]) => {
    const as = pairs.map((p) => f(p.a));
    const bs = pairs.map((p) => f(p.b));
    const ratios = pairs.map((p) => f(p.a) / f(p.b));
    const range = ratios.length > 1 ? ` (${fixed(Math.min(...ratios), 2)}-${fixed(Math.max(...ratios), 2)})` : '';
    return [name, fixed(median(as), digits), fixed(median(bs), digits), `${fixed(median(ratios), 2)}×${range}`];
  });
  return `medians of ${pairs.length} A/B pair(s)\n${renderTable(['figure', a, b, `${a} / ${b}`], rows)}`;
}
