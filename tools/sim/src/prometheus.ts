import type { Summary } from './summary-types.js';

/** The kubelet's `/metrics/resource` (Prometheus text 0.0.4), derived from the same sample as the Summary. */

const HELP: Record<string, [string, 'counter' | 'gauge']> = {
  container_cpu_usage_seconds_total: ['[STABLE] Cumulative cpu time consumed by the container in core-seconds', 'counter'],
  container_memory_working_set_bytes: ['[STABLE] Current working set of the container in bytes', 'gauge'],
  container_start_time_seconds: ['[STABLE] Start time of the container since unix epoch in seconds', 'gauge'],
  node_cpu_usage_seconds_total: ['[STABLE] Cumulative cpu time consumed by the node in core-seconds', 'counter'],
  node_memory_working_set_bytes: ['[STABLE] Current working set of the node in bytes', 'gauge'],
  pod_cpu_usage_seconds_total: ['[STABLE] Cumulative cpu time consumed by the pod in core-seconds', 'counter'],
  pod_memory_working_set_bytes: ['[STABLE] Current working set of the pod in bytes', 'gauge'],
  resource_scrape_error: ['[STABLE] 1 if there was an error while getting container metrics, 0 otherwise', 'gauge'],
};

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labels(pairs: Record<string, string>): string {
  const inner = Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',');
  return inner ? `{${inner}}` : '';
}

const ms = (iso: string | undefined) => (iso ? Date.parse(iso) : undefined);

export function resourceMetrics(summary: Summary): string {
  const series: Record<string, string[]> = Object.fromEntries(Object.keys(HELP).map((k) => [k, []]));
  const add = (name: string, l: Record<string, string>, value: number | undefined, timeMs?: number) => {
    if (value === undefined) return;
    series[name]!.push(`${name}${labels(l)} ${value}${timeMs !== undefined ? ` ${timeMs}` : ''}`);
  };
  for (const pod of summary.pods) {
    const base = { namespace: pod.podRef.namespace, pod: pod.podRef.name };
    for (const c of pod.containers) {
      const l = { container: c.name, ...base };
      if (c.cpu?.usageCoreNanoSeconds !== undefined) add('container_cpu_usage_seconds_total', l, c.cpu.usageCoreNanoSeconds / 1e9, ms(c.cpu.time));
      add('container_memory_working_set_bytes', l, c.memory?.workingSetBytes, ms(c.memory?.time));
      add('container_start_time_seconds', l, Date.parse(c.startTime) / 1000, ms(c.startTime));
    }
    if (pod.cpu?.usageCoreNanoSeconds !== undefined) add('pod_cpu_usage_seconds_total', base, pod.cpu.usageCoreNanoSeconds / 1e9, ms(pod.cpu.time));
    add('pod_memory_working_set_bytes', base, pod.memory?.workingSetBytes, ms(pod.memory?.time));
  }
  const n = summary.node;
  if (n.cpu?.usageCoreNanoSeconds !== undefined) add('node_cpu_usage_seconds_total', {}, n.cpu.usageCoreNanoSeconds / 1e9, ms(n.cpu.time));
  add('node_memory_working_set_bytes', {}, n.memory?.workingSetBytes, ms(n.memory?.time));
  add('resource_scrape_error', {}, 0);
  const out: string[] = [];
  for (const [name, [help, type]] of Object.entries(HELP)) {
    out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...series[name]!);
  }
  return `${out.join('\n')}\n`;
}
