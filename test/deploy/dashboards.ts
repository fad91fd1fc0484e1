import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './support.js';

/*
 * The provisioned dashboards' InfluxQL, with Grafana's variables and macros replaced by
 * concrete values, so that tests can run every panel query against a real InfluxDB.
 */

export const DASHBOARDS_DIR = join(ROOT, 'deploy', 'grafana', 'dashboards');

export interface GrafanaTarget {
  refId: string;
  datasource?: { type: string; uid: string };
  query?: string;
  expr?: string;
  alias?: string;
  rawQuery?: boolean;
  resultFormat?: string;
}
export interface GrafanaPanel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: GrafanaTarget[];
  gridPos: { x: number; y: number; w: number; h: number };
}
export interface GrafanaVariable {
  name: string;
  type: string;
  query?: string;
  datasource?: { type: string; uid: string };
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}
export interface GrafanaAnnotation {
  name: string;
  datasource?: { type: string; uid: string };
  query?: string;
  builtIn?: number;
}
export interface GrafanaDashboard {
  uid: string;
  title: string;
  panels: GrafanaPanel[];
  templating: { list: GrafanaVariable[] };
  annotations: { list: GrafanaAnnotation[] };
}

/** File name -> parsed dashboard, for every JSON file in deploy/grafana/dashboards. */
export function loadDashboards(): Map<string, GrafanaDashboard> {
  const out = new Map<string, GrafanaDashboard>();
  for (const file of readdirSync(DASHBOARDS_DIR).filter((f) => f.endsWith('.json')).sort()) {
    out.set(file, JSON.parse(readFileSync(join(DASHBOARDS_DIR, file), 'utf8')) as GrafanaDashboard);
  }
  return out;
}

/**
 * Values for the variables. A string is one value, an array several (Grafana's multi
 * select); `'$__all'` (or leaving a multi-value variable out) means All, which these
 * dashboards turn into `.*`.
 */
export type VariableValues = Partial<Record<'cluster' | 'namespace' | 'node' | 'pod' | 'resolution', string | string[]>> & {
  /** Replaces $timeFilter (default `time > now() - 1h`). */
  timeFilter?: string;
  /** Replaces $__interval (default `1m`). */
  interval?: string;
  [name: string]: string | string[] | undefined;
};

/** Grafana's escaping of a value inside an InfluxQL regex (`/` too, the regex delimiter). */
const escapeRegex = (s: string) => s.replace(/[/\\^$*+?.()|[\]{}]/g, '\\$&');

/** What Grafana's InfluxDB datasource substitutes for a variable inside a query. */
function formatValue(value: string | string[] | undefined, allValue: string): string {
  if (value === undefined || value === '$__all') return allValue;
  const values = Array.isArray(value) ? value : [value];
  if (values.length === 1) return escapeRegex(values[0]!);
  return `(${values.map(escapeRegex).join('|')})`;
}

/** Replaces $name, ${name} and [[name]] forms of variables and the InfluxDB macros in one query. */
export function expandQuery(query: string, variables: readonly GrafanaVariable[], values: VariableValues = {}): string {
  const builtIn: Record<string, string> = {
    timeFilter: values.timeFilter ?? 'time > now() - 1h',
    __interval: values.interval ?? '1m',
  };
  const resolve = (name: string): string | undefined => {
    if (name in builtIn) return builtIn[name];
    const v = variables.find((x) => x.name === name);
    if (!v) return undefined;
    if (v.name === 'resolution') return String(values.resolution ?? 'raw');
    if (v.type === 'datasource') return String(values[name] ?? name);
    return formatValue(values[name], v.allValue ?? '.*');
  };
  return query.replace(/\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]|\$(\w+)/g, (match, a: string | undefined, b: string | undefined, c: string | undefined) => resolve((a ?? b ?? c)!) ?? match);
}

export interface DashboardQuery {
  dashboard: string;
  panel: string;
  query: string;
}

/**
 * Every InfluxQL query of the provisioned dashboards (panel targets and annotations),
 * expanded with `values`. The Prometheus-backed pipeline dashboard is not included.
 */
export function dashboardQueries(values: VariableValues = {}): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const d of loadDashboards().values()) {
    const vars = d.templating.list;
    for (const p of d.panels) {
      for (const t of p.targets ?? []) {
        const type = t.datasource?.type ?? p.datasource?.type;
        if (type !== 'influxdb' || !t.query) continue;
        out.push({ dashboard: d.title, panel: `${p.title} [${t.refId}]`, query: expandQuery(t.query, vars, values) });
      }
    }
    for (const an of d.annotations.list) {
      if (an.datasource?.type === 'influxdb' && an.query) out.push({ dashboard: d.title, panel: `annotation: ${an.name}`, query: expandQuery(an.query, vars, values) });
    }
  }
  return out;
}

/** The variable queries (SHOW TAG VALUES ...) of the dashboards, expanded the same way. */
export function variableQueries(values: VariableValues = {}): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const d of loadDashboards().values()) {
    for (const v of d.templating.list) {
      if (v.type === 'query' && v.datasource?.type === 'influxdb' && v.query) out.push({ dashboard: d.title, panel: `variable: ${v.name}`, query: expandQuery(v.query, d.templating.list, values) });
    }
  }
  return out;
}
