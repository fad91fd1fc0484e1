/*
 * The heapstream Grafana dashboards, as code. `deploy/grafana/dashboards/*.json` is
 * generated from this file (test/deploy/dashboards.it.test.ts fails when they drift):
 *
 *   npx tsx deploy/grafana/generate.ts
 *
 * Queries are InfluxQL against InfluxDB 1.x, and read both storage layouts
 * (HEAPSTREAM_STORAGE_SCHEMA, docs/storage-schema.md), so switching layouts never
 * empties a dashboard: a metric is the measurement `cpu/usage_rate` with field `value`
 * (`heapster`) or the measurement `cpu` with field `usage_rate` (`wide`, the default),
 * tag `type` = entity type, in the raw retention policy, and `<field>_mean`, `_max`, ...
 * in `rollup_1m` / `rollup_1h`. The `resolution` variable picks the retention policy;
 * every query selects the field with /^(value|usage_rate)(_mean)?$/ from the measurement
 * /^(cpu\/usage_rate|cpu)$/, so one query serves both layouts and all three tiers (a
 * database holds one layout: with both, each panel would show each series twice).
 *
 * Totals are never means over members: cluster, namespace and workload panels read the
 * aggregator's own sums (entities `cluster`, `ns`, `workload`), and stacked panels
 * stack per-member series.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { findMetric, splitMetricName } from '@heapstream/metric-model';

export const INFLUX_DATASOURCE = { type: 'influxdb', uid: '${datasource}' } as const;
export const PROMETHEUS_DATASOURCE = { type: 'prometheus', uid: '${prometheus}' } as const;
/** Raw points, 1m windows, 1h windows: the storage-writer's default retention policy names. */
export const RESOLUTIONS = ['raw', 'rollup_1m', 'rollup_1h'] as const;
/** Events are written to the raw tier only. */
export const EVENTS_FROM = '"raw"."events"';

type Json = Record<string, unknown>;
type Datasource = typeof INFLUX_DATASOURCE | typeof PROMETHEUS_DATASOURCE;

interface Target {
  query: string;
  /** Legend: `$tag_nodename`, or a fixed text. */
  alias?: string;
  format?: 'time_series' | 'table';
}

interface PanelSpec {
  title: string;
  description?: string;
  kind?: 'timeseries' | 'stat' | 'table' | 'bargauge' | 'barchart';
  unit?: string;
  stack?: boolean;
  bars?: boolean;
  width?: number;
  height?: number;
  targets: Target[];
  /** PromQL targets (pipeline dashboard): `expr` instead of `query`. */
  prometheus?: boolean;
  decimals?: number;
  max?: number;
}

// ---- InfluxQL helpers ----------------------------------------------------------

const q = (s: string) => `'${s}'`;
const regexText = (s: string) => s.replace(/[/.]/g, (c) => `\\${c}`);
/** The metric's measurement in either layout: `/^(cpu\/usage_rate|cpu)$/` (`uptime` stays `"uptime"`). */
function measurementOf(metric: string): string {
  const [wide] = splitMetricName(metric);
  return wide === metric ? `"${metric}"` : `/^(${regexText(metric)}|${regexText(wide)})$/`;
}
/**
 * `"$resolution"./^(cpu\/usage_rate|cpu)$/`. Cumulative counters (`uptime`) have no
 * windows, only raw points: their panels read `raw` at every resolution (within its 7
 * days), instead of going blank at 1m and 1h.
 */
const from = (metric: string) => `"${findMetric(metric)?.kind === 'cumulative' ? 'raw' : '$resolution'}".${measurementOf(metric)}`;
/** The native field, or the window mean: `/^(value|usage_rate)(_mean)?$/`. */
function field(metric: string): string {
  const [, f] = splitMetricName(metric);
  return f === 'value' ? '/^value(_mean)?$/' : `/^(value|${regexText(f)})(_mean)?$/`;
}
const cluster = `"cluster_name" =~ /^$cluster$/`;

/** One series per group: mean over each time bucket of the entity's own value. */
function series(metric: string, entity: string, where: string[], groupBy: string[], fn = 'mean'): string {
  const conds = [`"type" = ${q(entity)}`, cluster, ...where, '$timeFilter'].join(' AND ');
  const groups = ['time($__interval)', ...groupBy.map((g) => `"${g}"`)].join(', ');
  return `SELECT ${fn}(${field(metric)}) FROM ${from(metric)} WHERE ${conds} GROUP BY ${groups} fill(none)`;
}

/** The latest value of one entity (stat panels). */
function latest(metric: string, entity: string, where: string[] = []): string {
  const conds = [`"type" = ${q(entity)}`, cluster, ...where, '$timeFilter'].join(' AND ');
  return `SELECT last(${field(metric)}) FROM ${from(metric)} WHERE ${conds}`;
}

/** How many distinct members (e.g. nodes) reported in the range. */
function members(metric: string, entity: string, tag: string): string {
  const inner = `SELECT last(${field(metric)}) FROM ${from(metric)} WHERE "type" = ${q(entity)} AND ${cluster} AND $timeFilter GROUP BY "${tag}"`;
  return `SELECT count(/^last_/) FROM (${inner}) WHERE $timeFilter`;
}

const node = `"nodename" =~ /^$node$/`;
const namespace = `"namespace_name" =~ /^$namespace$/`;
const pod = `"pod_name" =~ /^$pod$/`;

// ---- Grafana JSON helpers --------------------------------------------------------

function panel(spec: PanelSpec, id: number, x: number, y: number): Json {
  const kind = spec.kind ?? 'timeseries';
  const datasource: Datasource = spec.prometheus ? PROMETHEUS_DATASOURCE : INFLUX_DATASOURCE;
  const targets = spec.targets.map((t, i) => {
    const refId = String.fromCharCode(65 + i);
    if (spec.prometheus) return { refId, datasource, expr: t.query, legendFormat: t.alias ?? '', range: true };
    return { refId, datasource, query: t.query, rawQuery: true, resultFormat: t.format ?? (kind === 'table' ? 'table' : 'time_series'), ...(t.alias ? { alias: t.alias } : {}) };
  });
  const defaults: Json = { unit: spec.unit ?? 'short', ...(spec.decimals !== undefined ? { decimals: spec.decimals } : {}), ...(spec.max !== undefined ? { min: 0, max: spec.max } : {}) };
  if (kind === 'timeseries') {
    defaults.custom = {
      drawStyle: spec.bars ? 'bars' : 'line',
      lineWidth: 1,
      fillOpacity: spec.stack || spec.bars ? 60 : 10,
      showPoints: 'never',
      spanNulls: false,
      stacking: { mode: spec.stack ? 'normal' : 'none', group: 'A' },
    };
  }
  const options: Json =
    kind === 'timeseries'
      ? { legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max', 'lastNotNull'] }, tooltip: { mode: 'multi', sort: 'desc' } }
      : kind === 'stat'
        ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'value', graphMode: 'area', textMode: 'auto' }
        : kind === 'bargauge'
          ? { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, orientation: 'horizontal', displayMode: 'gradient' }
          : kind === 'barchart'
            ? { orientation: 'horizontal', showValue: 'auto', legend: { displayMode: 'list', placement: 'bottom' } }
            : { showHeader: true, cellHeight: 'sm' };
  return {
    id,
    type: kind,
    title: spec.title,
    ...(spec.description ? { description: spec.description } : {}),
    datasource,
    gridPos: { h: spec.height ?? (kind === 'stat' ? 4 : 8), w: spec.width ?? 12, x, y },
    fieldConfig: { defaults, overrides: [] },
    options,
    targets,
  };
}

function row(title: string, id: number, y: number): Json {
  return { id, type: 'row', title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] };
}

/** Lays panels out left to right, 24 columns wide, rows starting with a title. */
function layout(sections: [string, PanelSpec[]][]): Json[] {
  const out: Json[] = [];
  let id = 1;
  let y = 0;
  for (const [title, specs] of sections) {
    out.push(row(title, id++, y++));
    let x = 0;
    let rowHeight = 0;
    for (const spec of specs) {
      const w = spec.width ?? 12;
      const h = spec.height ?? (spec.kind === 'stat' ? 4 : 8);
      if (x + w > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      out.push(panel(spec, id++, x, y));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  return out;
}

type VariableName = 'cluster' | 'namespace' | 'node' | 'pod';

function datasourceVariable(): Json {
  return { name: 'datasource', label: 'InfluxDB', type: 'datasource', query: 'influxdb', current: { text: 'heapstream InfluxDB', value: 'heapstream-influxdb' }, hide: 0, refresh: 1, regex: '', options: [] };
}

function resolutionVariable(): Json {
  const labels = { raw: 'raw (≤ 7d)', rollup_1m: '1m rollup (≤ 30d)', rollup_1h: '1h rollup (≤ 365d)' } as const;
  return {
    name: 'resolution',
    label: 'Resolution',
    description: 'Retention policy: raw points for short ranges, 1m and 1h windows for long ones',
    type: 'custom',
    query: RESOLUTIONS.map((r) => `${labels[r]} : ${r}`).join(','),
    current: { text: labels.raw, value: 'raw' },
    options: RESOLUTIONS.map((r, i) => ({ text: labels[r], value: r, selected: i === 0 })),
    hide: 0,
  };
}

/** Tag-value variables, each narrowed by the ones before it. */
function tagVariable(name: VariableName): Json {
  const key = { cluster: 'cluster_name', namespace: 'namespace_name', node: 'nodename', pod: 'pod_name' }[name];
  const measurement = name === 'namespace' || name === 'pod' ? 'memory/working_set' : 'cpu/usage_rate';
  const where = name === 'cluster' ? '' : ` WHERE ${cluster}${name === 'pod' ? ` AND ${namespace}` : ''}`;
  const multi = name !== 'cluster';
  return {
    name,
    label: name[0]!.toUpperCase() + name.slice(1),
    type: 'query',
    datasource: INFLUX_DATASOURCE,
    query: `SHOW TAG VALUES FROM ${measurementOf(measurement)} WITH KEY = "${key}"${where}`,
    definition: `SHOW TAG VALUES FROM ${measurementOf(measurement)} WITH KEY = "${key}"${where}`,
    refresh: 2,
    sort: 1,
    multi,
    includeAll: multi,
    ...(multi ? { allValue: '.*', current: { text: 'All', value: '$__all' } } : {}),
    hide: 0,
    regex: '',
    options: [],
  };
}

function warningAnnotations(): Json {
  return {
    name: 'Warning events',
    datasource: INFLUX_DATASOURCE,
    enable: true,
    iconColor: 'orange',
    query: `SELECT "message", "reason", "kind", "object_name" FROM ${EVENTS_FROM} WHERE "type" = 'Warning' AND ${cluster} AND $timeFilter ORDER BY time DESC LIMIT 1000`,
    titleColumn: 'reason',
    textColumn: 'message',
    tagsColumn: 'reason,kind,object_name',
  };
}

function dashboard(uid: string, title: string, description: string, variables: Json[], panels: Json[], annotations: Json[] = []): Json {
  return {
    uid,
    title,
    description,
    tags: ['heapstream'],
    editable: false,
    graphTooltip: 1,
    refresh: '30s',
    schemaVersion: 39,
    time: { from: 'now-1h', to: 'now' },
    timepicker: { refresh_intervals: ['15s', '30s', '1m', '5m', '15m'] },
    timezone: 'browser',
    annotations: {
      list: [
        { builtIn: 1, datasource: { type: 'grafana', uid: '-- Grafana --' }, enable: true, hide: true, iconColor: 'rgba(0, 211, 255, 1)', name: 'Annotations & Alerts', type: 'dashboard' },
        ...annotations,
      ],
    },
    links: [{ type: 'dashboards', tags: ['heapstream'], asDropdown: true, title: 'heapstream', includeVars: true, keepTime: true }],
    templating: { list: variables },
    panels,
  };
}

const influxVars = (...names: VariableName[]) => [datasourceVariable(), resolutionVariable(), ...names.map(tagVariable)];

// ---- The dashboards -------------------------------------------------------------

function clusterDashboard(): Json {
  const c = (metric: string, alias: string): Target => ({ query: series(metric, 'cluster', [], []), alias });
  return dashboard(
    'heapstream-cluster',
    'heapstream / Cluster',
    'Cluster totals (sums over nodes computed by the aggregator, never means), and the share of each node and namespace.',
    influxVars('cluster'),
    layout([
      [
        'Cluster',
        [
          { title: 'Nodes', kind: 'stat', width: 4, targets: [{ query: members('cpu/usage_rate', 'node', 'nodename') }] },
          { title: 'CPU usage', kind: 'stat', width: 5, unit: 'none', description: 'millicores, all nodes', targets: [{ query: latest('cpu/usage_rate', 'cluster') }] },
          { title: 'CPU utilization', kind: 'stat', width: 5, unit: 'percentunit', max: 1, targets: [{ query: latest('cpu/node_utilization', 'cluster') }] },
          { title: 'Memory working set', kind: 'stat', width: 5, unit: 'bytes', targets: [{ query: latest('memory/working_set', 'cluster') }] },
          { title: 'Memory utilization', kind: 'stat', width: 5, unit: 'percentunit', max: 1, targets: [{ query: latest('memory/node_utilization', 'cluster') }] },
          {
            title: 'CPU: usage, requests, limits, allocatable (millicores)',
            unit: 'none',
            targets: [c('cpu/usage_rate', 'usage'), c('cpu/request', 'requests'), c('cpu/limit', 'limits'), c('cpu/node_allocatable', 'allocatable')],
          },
          {
            title: 'Memory: working set, usage, requests, allocatable',
            unit: 'bytes',
            targets: [c('memory/working_set', 'working set'), c('memory/usage', 'usage'), c('memory/request', 'requests'), c('memory/limit', 'limits'), c('memory/node_allocatable', 'allocatable')],
          },
          { title: 'Network', unit: 'Bps', targets: [c('network/rx_rate', 'received'), c('network/tx_rate', 'sent')] },
          { title: 'Network errors', unit: 'short', targets: [c('network/rx_errors_rate', 'receive errors/s'), c('network/tx_errors_rate', 'transmit errors/s')] },
        ],
      ],
      [
        'By node',
        [
          { title: 'CPU usage by node (millicores)', unit: 'none', stack: true, targets: [{ query: series('cpu/usage_rate', 'node', [], ['nodename']), alias: '$tag_nodename' }] },
          { title: 'Memory working set by node', unit: 'bytes', stack: true, targets: [{ query: series('memory/working_set', 'node', [], ['nodename']), alias: '$tag_nodename' }] },
        ],
      ],
      [
        'By namespace',
        [
          { title: 'CPU usage by namespace (millicores)', unit: 'none', stack: true, targets: [{ query: series('cpu/usage_rate', 'ns', [], ['namespace_name']), alias: '$tag_namespace_name' }] },
          { title: 'Memory working set by namespace', unit: 'bytes', stack: true, targets: [{ query: series('memory/working_set', 'ns', [], ['namespace_name']), alias: '$tag_namespace_name' }] },
        ],
      ],
    ]),
    [warningAnnotations()],
  );
}

function nodesDashboard(): Json {
  const n = (metric: string, more: string[] = []) => ({ query: series(metric, 'node', [node, ...more], ['nodename']), alias: '$tag_nodename' });
  return dashboard(
    'heapstream-nodes',
    'heapstream / Nodes',
    'Per-node usage, utilization of allocatable, network and filesystems.',
    influxVars('cluster', 'node'),
    layout([
      [
        'CPU and memory',
        [
          { title: 'CPU usage (millicores)', unit: 'none', targets: [n('cpu/usage_rate')] },
          { title: 'CPU utilization (usage / allocatable)', unit: 'percentunit', targets: [n('cpu/node_utilization')] },
          { title: 'Memory working set', unit: 'bytes', targets: [n('memory/working_set')] },
          { title: 'Memory utilization (working set / allocatable)', unit: 'percentunit', targets: [n('memory/node_utilization')] },
          { title: 'CPU reservation (requests / allocatable)', unit: 'percentunit', targets: [n('cpu/node_reservation')] },
          { title: 'Memory reservation (requests / allocatable)', unit: 'percentunit', targets: [n('memory/node_reservation')] },
        ],
      ],
      [
        'Network and storage',
        [
          { title: 'Network received', unit: 'Bps', targets: [n('network/rx_rate')] },
          { title: 'Network sent', unit: 'Bps', targets: [n('network/tx_rate')] },
          { title: 'Root filesystem usage', unit: 'bytes', targets: [n('filesystem/usage', [`"resource_id" = '/'`])] },
          { title: 'Root filesystem available', unit: 'bytes', targets: [n('filesystem/available', [`"resource_id" = '/'`])] },
          { title: 'Processes', unit: 'short', targets: [n('process/count')] },
          { title: 'Uptime', unit: 'ms', targets: [{ ...n('uptime'), query: series('uptime', 'node', [node], ['nodename'], 'last') }] },
        ],
      ],
    ]),
    [warningAnnotations()],
  );
}

function workloadsDashboard(): Json {
  const ns = (metric: string) => ({ query: series(metric, 'ns', [namespace], ['namespace_name']), alias: '$tag_namespace_name' });
  const wl = (metric: string) => ({ query: series(metric, 'workload', [namespace], ['namespace_name', 'workload_kind', 'workload_name']), alias: '$tag_namespace_name/$tag_workload_kind/$tag_workload_name' });
  return dashboard(
    'heapstream-workloads',
    'heapstream / Namespaces & workloads',
    'Namespace and workload (Deployment, StatefulSet, DaemonSet, Job, CronJob) totals: sums over their pods computed by the aggregator.',
    influxVars('cluster', 'namespace'),
    layout([
      [
        'Namespaces',
        [
          { title: 'CPU usage by namespace (millicores)', unit: 'none', stack: true, targets: [ns('cpu/usage_rate')] },
          { title: 'Memory working set by namespace', unit: 'bytes', stack: true, targets: [ns('memory/working_set')] },
          { title: 'CPU requests by namespace (millicores)', unit: 'none', targets: [ns('cpu/request')] },
          { title: 'Memory requests by namespace', unit: 'bytes', targets: [ns('memory/request')] },
          { title: 'Network received by namespace', unit: 'Bps', targets: [ns('network/rx_rate')] },
          { title: 'Network sent by namespace', unit: 'Bps', targets: [ns('network/tx_rate')] },
        ],
      ],
      [
        'Workloads',
        [
          { title: 'CPU usage by workload (millicores)', unit: 'none', targets: [wl('cpu/usage_rate')] },
          { title: 'Memory working set by workload', unit: 'bytes', targets: [wl('memory/working_set')] },
          { title: 'CPU requests by workload (millicores)', unit: 'none', targets: [wl('cpu/request')] },
          { title: 'Memory limits by workload', unit: 'bytes', targets: [wl('memory/limit')] },
        ],
      ],
    ]),
    [warningAnnotations()],
  );
}

function podsDashboard(): Json {
  const p = (metric: string, more: string[] = []) => ({ query: series(metric, 'pod', [namespace, pod, ...more], ['namespace_name', 'pod_name']), alias: '$tag_namespace_name/$tag_pod_name' });
  const ctr = (metric: string, fn = 'mean') => ({ query: series(metric, 'pod_container', [namespace, pod], ['pod_name', 'container_name'], fn), alias: '$tag_pod_name/$tag_container_name' });
  return dashboard(
    'heapstream-pods',
    'heapstream / Pods & containers',
    'Pod and container usage against their requests and limits, restarts, network and storage.',
    influxVars('cluster', 'namespace', 'node', 'pod'),
    layout([
      [
        'Pods',
        [
          { title: 'Pod CPU usage (millicores)', unit: 'none', targets: [p('cpu/usage_rate', [node])] },
          { title: 'Pod memory working set', unit: 'bytes', targets: [p('memory/working_set', [node])] },
          { title: 'Pod network received', unit: 'Bps', targets: [p('network/rx_rate', [node])] },
          { title: 'Pod network sent', unit: 'Bps', targets: [p('network/tx_rate', [node])] },
          { title: 'Pod ephemeral storage', unit: 'bytes', targets: [p('ephemeral_storage/usage', [node])] },
          { title: 'Pod volumes used', unit: 'bytes', targets: [{ query: series('filesystem/usage', 'pod', [namespace, pod, node, `"resource_id" =~ /^Volume:/`], ['pod_name', 'resource_id']), alias: '$tag_pod_name $tag_resource_id' }] },
        ],
      ],
      [
        'Containers',
        [
          { title: 'Container CPU usage (millicores)', unit: 'none', targets: [ctr('cpu/usage_rate')] },
          { title: 'Container CPU limit (millicores)', unit: 'none', targets: [ctr('cpu/limit')] },
          { title: 'Container memory working set', unit: 'bytes', targets: [ctr('memory/working_set')] },
          { title: 'Container memory limit', unit: 'bytes', targets: [ctr('memory/limit')] },
          { title: 'Container restarts', unit: 'short', targets: [ctr('restart_count', 'max')] },
          { title: 'Container major page faults', unit: 'short', targets: [ctr('memory/major_page_faults_rate')] },
        ],
      ],
    ]),
    [warningAnnotations()],
  );
}

function eventsDashboard(): Json {
  const where = [cluster, namespace, '$timeFilter'].join(' AND ');
  return dashboard(
    'heapstream-events',
    'heapstream / Events',
    'Kubernetes Events from the `events` measurement (HEAPSTREAM_EVENT_MEASUREMENTS=events or both): counts by reason and type, the latest events, and Warning events as annotations over cluster usage.',
    influxVars('cluster', 'namespace'),
    layout([
      [
        'Events',
        [
          { title: 'Events by reason', unit: 'short', bars: true, stack: true, targets: [{ query: `SELECT count("occurrence") FROM ${EVENTS_FROM} WHERE ${where} GROUP BY time($__interval), "reason" fill(none)`, alias: '$tag_reason' }] },
          { title: 'Events by type', unit: 'short', bars: true, stack: true, targets: [{ query: `SELECT count("occurrence") FROM ${EVENTS_FROM} WHERE ${where} GROUP BY time($__interval), "type" fill(none)`, alias: '$tag_type' }] },
          { title: 'Top reasons', kind: 'table', width: 8, targets: [{ query: `SELECT count("occurrence") AS "events" FROM ${EVENTS_FROM} WHERE ${where} GROUP BY "reason", "type"`, format: 'table' }] },
          { title: 'Latest events', kind: 'table', width: 16, targets: [{ query: `SELECT "type", "reason", "kind", "namespace_name", "object_name", "component", "message" FROM ${EVENTS_FROM} WHERE ${where} ORDER BY time DESC LIMIT 200`, format: 'table' }] },
        ],
      ],
      [
        'Event counters (aggregator, 1m windows)',
        [
          {
            title: 'Warning occurrences per workload',
            description: 'event_occurrences from the aggregator: occurrences per 1m window (sum over the event topic shards)',
            unit: 'short',
            bars: true,
            stack: true,
            targets: [{ query: `SELECT sum("value_sum") FROM "rollup_1m"."event_occurrences" WHERE "type" = 'workload' AND "event_type" = 'Warning' AND ${where} GROUP BY time(1m), "workload_name", "reason" fill(none)`, alias: '$tag_workload_name $tag_reason' }],
          },
          {
            title: 'Occurrences per namespace and reason',
            unit: 'short',
            bars: true,
            stack: true,
            targets: [{ query: `SELECT sum("value_sum") FROM "rollup_1m"."event_occurrences" WHERE "type" = 'ns' AND ${where} GROUP BY time(1m), "namespace_name", "reason" fill(none)`, alias: '$tag_namespace_name $tag_reason' }],
          },
        ],
      ],
      [
        'Resources (Warning events as annotations)',
        [
          { title: 'Cluster CPU usage (millicores)', unit: 'none', targets: [{ query: series('cpu/usage_rate', 'cluster', [], []), alias: 'cluster' }] },
          { title: 'Cluster memory working set', unit: 'bytes', targets: [{ query: series('memory/working_set', 'cluster', [], []), alias: 'cluster' }] },
          { title: 'CPU usage by namespace (millicores)', unit: 'none', stack: true, targets: [{ query: series('cpu/usage_rate', 'ns', [namespace], ['namespace_name']), alias: '$tag_namespace_name' }] },
          { title: 'Container restarts', unit: 'short', targets: [{ query: series('restart_count', 'pod_container', [namespace], ['pod_name', 'container_name'], 'max'), alias: '$tag_pod_name/$tag_container_name' }] },
        ],
      ],
    ]),
    [warningAnnotations()],
  );
}

function pipelineDashboard(): Json {
  const prom = (title: string, unit: string, targets: [string, string][], more: Partial<PanelSpec> = {}): PanelSpec => ({
    title,
    unit,
    prometheus: true,
    targets: targets.map(([query, alias]) => ({ query, alias })),
    ...more,
  });
  const rate = (m: string) => `rate(${m}[$__rate_interval])`;
  return dashboard(
    'heapstream-pipeline',
    'heapstream / Pipeline health',
    "The services' own /metrics, from a Prometheus that scrapes them, picked in the Prometheus variable. docker compose provisions one; on a cluster, add yours (docs/operations.md).",
    [
      { name: 'prometheus', label: 'Prometheus', type: 'datasource', query: 'prometheus', hide: 0, refresh: 1, regex: '', options: [] },
    ],
    layout([
      [
        'Scraper',
        [
          prom('Age of the last successful scrape', 's', [['max by (instance) (heapstream_scraper_last_success_age_seconds)', '{{instance}}']]),
          prom('Scrape round duration', 's', [
            [`histogram_quantile(0.99, sum by (le) (${rate('heapstream_scraper_round_duration_seconds_bucket')}))`, 'p99'],
            [`histogram_quantile(0.5, sum by (le) (${rate('heapstream_scraper_round_duration_seconds_bucket')}))`, 'p50'],
          ]),
          prom('Scrapes by result', 'reqps', [[`sum by (result) (${rate('heapstream_scraper_scrapes_total')})`, '{{result}}']]),
          prom('Nodes per scraper', 'short', [['sum by (instance, state) (heapstream_scraper_nodes)', '{{instance}} {{state}}']]),
        ],
      ],
      [
        'Kafka',
        [
          prom('Consumer lag by service and topic', 'short', [['sum by (service, topic) (heapstream_consumer_lag)', '{{service}} {{topic}}']]),
          prom('Dead letters', 'short', [[`sum by (service, reason) (${rate('heapstream_dead_letters_total')})`, '{{service}} {{reason}}']]),
          prom('Received / sent per stage', 'short', [
            [`sum by (service, stage) (${rate('heapstream_received_total')})`, 'in {{service}}/{{stage}}'],
            [`sum by (service, stage) (${rate('heapstream_sent_total')})`, 'out {{service}}/{{stage}}'],
          ]),
          prom('Discarded by reason, errors by type', 'short', [
            [`sum by (service, reason) (${rate('heapstream_discarded_total')})`, 'discarded {{service}} {{reason}}'],
            [`sum by (service, type) (${rate('heapstream_errors_total')})`, 'error {{service}} {{type}}'],
          ]),
        ],
      ],
      [
        'InfluxDB writes and events',
        [
          prom('InfluxDB write latency', 's', [
            [`histogram_quantile(0.99, sum by (le) (${rate('heapstream_influx_write_duration_seconds_bucket')}))`, 'p99'],
            [`histogram_quantile(0.5, sum by (le) (${rate('heapstream_influx_write_duration_seconds_bucket')}))`, 'p50'],
          ]),
          prom('Lines written to InfluxDB', 'short', [[`sum(${rate('heapstream_influx_lines_written_total')})`, 'lines/s'], [`sum(${rate('heapstream_influx_write_retries_total')})`, 'retries/s']]),
          prom('Event watcher: leader and checkpoint age', 's', [
            ['max by (instance) (heapstream_event_watcher_checkpoint_age_seconds)', 'checkpoint age {{instance}}'],
            ['max by (instance) (heapstream_event_watcher_leader)', 'leader {{instance}}'],
          ]),
          prom('Event records emitted', 'short', [[`sum(${rate('heapstream_event_watcher_records_emitted_total')})`, 'records/s']]),
        ],
      ],
      [
        'Processes',
        [
          prom('Resident memory', 'bytes', [['sum by (service, instance) (heapstream_process_resident_memory_bytes)', '{{service}} {{instance}}']]),
          prom('CPU', 'percentunit', [[`sum by (service, instance) (${rate('heapstream_process_cpu_seconds_total')})`, '{{service}} {{instance}}']]),
        ],
      ],
    ]),
  );
}

/** File name -> dashboard JSON, in the order they appear in Grafana's list. */
export function buildDashboards(): Record<string, Json> {
  return {
    'heapstream-cluster.json': clusterDashboard(),
    'heapstream-nodes.json': nodesDashboard(),
    'heapstream-workloads.json': workloadsDashboard(),
    'heapstream-pods.json': podsDashboard(),
    'heapstream-events.json': eventsDashboard(),
    'heapstream-pipeline.json': pipelineDashboard(),
  };
}

export const DASHBOARDS_DIR = fileURLToPath(new URL('./dashboards/', import.meta.url));

export function renderDashboard(d: Json): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  mkdirSync(DASHBOARDS_DIR, { recursive: true });
  for (const [file, d] of Object.entries(buildDashboards())) writeFileSync(`${DASHBOARDS_DIR}${file}`, renderDashboard(d));
  console.log(`wrote ${Object.keys(buildDashboards()).length} dashboards to ${DASHBOARDS_DIR}`);
}
