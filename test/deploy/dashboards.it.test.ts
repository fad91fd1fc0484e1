import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { EventRecord, MetricPoint } from '@heapstream/contracts';
import { ENTITY_TYPES, EVENT_OCCURRENCES_METRIC, findMetric, STORAGE_SCHEMAS, TAGS, toLineProtocol, type EntityType } from '@heapstream/metric-model';
import { testEnv, uniqueName } from '@heapstream/testing';
import { buildDashboards, renderDashboard, RESOLUTIONS } from '../../deploy/grafana/generate.js';
import { eventToLines } from '../../services/storage-writer/src/event-lines.js';
import { storageWriterConfigSchema } from '../../services/storage-writer/src/config.js';
import { dashboardQueries, DASHBOARDS_DIR, expandQuery, loadDashboards, variableQueries } from './dashboards.js';
import { ROOT } from './support.js';

const dashboards = loadDashboards();
const all = [...dashboards.entries()];
const BUILT_INS = new Set(['timeFilter', '__interval', '__rate_interval']);

/**
 * The metric (the `heapster` measurement) and the entity `type` a query reads: from
 * `"<rp>"."<measurement>"`, or `"<rp>"./^(<heapster measurement>|<wide measurement>)$/`.
 */
function sources(query: string): { measurement: string; entity?: string }[] {
  const out: { measurement: string; entity?: string }[] = [];
  for (const m of query.matchAll(/FROM "[^"]+"\.(?:"([^"]+)"|\/\^\(((?:[^|\\]|\\.)+)\|[^)]+\)\$\/)(?: WHERE "type" = '(\w+)')?/g)) {
    out.push({ measurement: m[1] ?? m[2]!.replace(/\\(.)/g, '$1'), entity: m[3] });
  }
  return out;
}

describe('dashboard files', () => {
  it('are the generator output (npx tsx deploy/grafana/generate.ts)', () => {
    const built = buildDashboards();
    expect([...dashboards.keys()].sort()).toEqual(Object.keys(built).sort());
    for (const [file, d] of Object.entries(built)) expect(readFileSync(join(DASHBOARDS_DIR, file), 'utf8'), file).toBe(renderDashboard(d));
  });

  it('have unique uids and titles, and one for each view', () => {
    const uids = all.map(([, d]) => d.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(uids.sort()).toEqual(['heapstream-cluster', 'heapstream-events', 'heapstream-nodes', 'heapstream-pipeline', 'heapstream-pods', 'heapstream-workloads']);
  });

  it('give every panel a datasource and at least one query target', () => {
    for (const [file, d] of all) {
      for (const p of d.panels.filter((x) => x.type !== 'row')) {
        const where = `${file}: ${p.title}`;
        expect(p.datasource?.uid, where).toBeTruthy();
        expect(p.targets?.length, where).toBeGreaterThan(0);
        for (const t of p.targets!) {
          expect(t.datasource?.uid ?? p.datasource?.uid, where).toBeTruthy();
          expect(t.query ?? t.expr, where).toBeTruthy();
        }
        expect(new Set(p.targets!.map((t) => t.refId)).size, where).toBe(p.targets!.length);
        expect(p.gridPos.x + p.gridPos.w, where).toBeLessThanOrEqual(24);
      }
    }
  });

  it('define the cluster, namespace, node and pod variables, and every variable a query uses', () => {
    const names = (file: string) => dashboards.get(file)!.templating.list.map((v) => v.name);
    for (const [file, d] of all) {
      if (file === 'heapstream-pipeline.json') continue;
      expect(names(file), file).toEqual(expect.arrayContaining(['datasource', 'resolution', 'cluster']));
      const defined = new Set(d.templating.list.map((v) => v.name));
      const texts = [...d.panels.flatMap((p) => (p.targets ?? []).map((t) => t.query ?? '')), ...d.templating.list.map((v) => v.query ?? ''), ...d.annotations.list.map((a) => a.query ?? '')];
      for (const text of texts) for (const m of text.matchAll(/\$\{?(\w+)/g)) expect(defined.has(m[1]!) || BUILT_INS.has(m[1]!), `${file}: $${m[1]} in ${text}`).toBe(true);
    }
    expect(names('heapstream-nodes.json')).toContain('node');
    expect(names('heapstream-pods.json')).toEqual(expect.arrayContaining(['namespace', 'node', 'pod']));
    expect(names('heapstream-workloads.json')).toContain('namespace');
    expect(names('heapstream-events.json')).toContain('namespace');
    expect(names('heapstream-pipeline.json')).toContain('prometheus');
  });

  it('offer raw, 1m and 1h retention policies through the resolution variable', () => {
    for (const [file, d] of all) {
      if (file === 'heapstream-pipeline.json') continue;
      const v = d.templating.list.find((x) => x.name === 'resolution') as unknown as { options: { value: string }[] };
      expect(v.options.map((o) => o.value), file).toEqual(['raw', 'rollup_1m', 'rollup_1h']);
    }
    // The names the storage-writer creates by default.
    const sw = storageWriterConfigSchema.parse({ KAFKA_BROKERS: 'k:9092', INFLUX_URL: 'http://i:8086' });
    expect([sw.INFLUX_RP_RAW, sw.INFLUX_RP_1M, sw.INFLUX_RP_1H]).toEqual([...RESOLUTIONS]);
    expect(sw.HEAPSTREAM_STORAGE_SCHEMA).toBe('wide');
  });

  it('never average members into a total: a mean over nodes, pods, namespaces or workloads is grouped by the member', () => {
    const memberTag: Record<string, string> = { node: 'nodename', pod: 'pod_name', pod_container: 'container_name', sys_container: 'container_name', ns: 'namespace_name', workload: 'workload_name' };
    let checked = 0;
    for (const q of dashboardQueries()) {
      const m = /^SELECT (mean|median)\(.*?"type" = '(\w+)'.*GROUP BY (.*)$/.exec(q.query);
      const tag = m && memberTag[m[2]!];
      if (!tag) continue;
      expect(m[3], `${q.dashboard} / ${q.panel}: ${q.query}`).toContain(`"${tag}"`);
      checked++;
    }
    expect(checked).toBeGreaterThan(30);
    // Cluster panels read the aggregator's cluster entity (a sum over nodes).
    for (const q of dashboardQueries().filter((x) => x.dashboard === 'heapstream / Cluster' && !/by (node|namespace)|^Nodes/.test(x.panel) && !x.panel.startsWith('annotation'))) {
      expect(q.query, q.panel).toContain(`"type" = 'cluster'`);
    }
  });

  it('query only catalogue metrics, for entity types that carry them', () => {
    const entities = new Set<string>(ENTITY_TYPES);
    for (const q of dashboardQueries()) {
      for (const s of sources(q.query)) {
        if (s.measurement === 'events') continue;
        const def = findMetric(s.measurement);
        expect(def, `${q.panel}: ${s.measurement}`).toBeDefined();
        if (s.entity) {
          expect(entities.has(s.entity)).toBe(true);
          expect(def!.entities, `${q.panel}: ${s.measurement} for ${s.entity}`).toContain(s.entity as EntityType);
        }
      }
    }
  });

  it('are provisioned: the datasource is InfluxDB (InfluxQL) at influxdb:8086, database k8s; the provider reads the dashboards folder', () => {
    const ds = parse(readFileSync(join(ROOT, 'deploy/grafana/provisioning/datasources/influxdb.yaml'), 'utf8')) as { datasources: { uid: string; type: string; url: string; jsonData: { dbName: string } }[] };
    expect(ds.datasources).toEqual([expect.objectContaining({ uid: 'heapstream-influxdb', type: 'influxdb', url: 'http://influxdb:8086', jsonData: expect.objectContaining({ dbName: 'k8s' }) })]);
    const providers = parse(readFileSync(join(ROOT, 'deploy/grafana/provisioning/dashboards/heapstream.yaml'), 'utf8')) as { providers: { options: { path: string } }[] };
    expect(providers.providers[0]!.options.path).toBe('/etc/grafana/dashboards/heapstream');
  });
});

describe('dashboardQueries()', () => {
  it('expands variables and macros to concrete values', () => {
    const qs = dashboardQueries({ cluster: 'prod', node: ['n-1', 'n.2'], namespace: 'kube-system', resolution: 'rollup_1m', timeFilter: 'time > 0', interval: '5m' });
    expect(qs.length).toBeGreaterThan(40);
    for (const q of qs) expect(q.query, q.panel).not.toMatch(/\$\w|\$\{|\[\[/);
    const nodes = qs.find((q) => q.dashboard === 'heapstream / Nodes' && q.panel.startsWith('CPU usage'))!;
    expect(nodes.query).toBe(
      `SELECT mean(/^(value|usage_rate)(_mean)?$/) FROM "rollup_1m"./^(cpu\\/usage_rate|cpu)$/ WHERE "type" = 'node' AND "cluster_name" =~ /^prod$/ AND "nodename" =~ /^(n-1|n\\.2)$/ AND time > 0 GROUP BY time(5m), "nodename" fill(none)`,
    );
    expect(expandQuery('$namespace [[pod]] ${node}', [{ name: 'namespace', type: 'query' }, { name: 'pod', type: 'query' }, { name: 'node', type: 'query' }], {})).toBe('.* .* .*');
  });
});

describe.each(STORAGE_SCHEMAS)('every InfluxQL query against InfluxDB 1.8, %s layout', (schema) => {
  const influx = testEnv().INFLUX_URL;
  const db = uniqueName(`dash-${schema}`).replace(/-/g, '_');
  const now = Date.now();
  const step = 15_000;

  const influxQl = async (q: string, method: 'GET' | 'POST' = 'GET') => {
    const url = `${influx}/query?${new URLSearchParams({ db, q, epoch: 'ms' })}`;
    const res = await fetch(url, { method });
    const body = (await res.json()) as { error?: string; results?: { error?: string; series?: { values: unknown[][] }[] }[] };
    return { status: res.status, body };
  };
  const write = async (rp: string, lines: string[]) => {
    const res = await fetch(`${influx}/write?${new URLSearchParams({ db, rp, precision: 'ns' })}`, { method: 'POST', body: lines.join('\n') });
    if (res.status !== 204) throw new Error(`write to ${rp}: ${res.status} ${await res.text()}`);
  };

  beforeAll(async () => {
    await influxQl(`CREATE DATABASE "${db}"`, 'POST');
    await influxQl(`CREATE RETENTION POLICY "raw" ON "${db}" DURATION 7d REPLICATION 1 DEFAULT`, 'POST');
    await influxQl(`CREATE RETENTION POLICY "rollup_1m" ON "${db}" DURATION 30d REPLICATION 1`, 'POST');
    await influxQl(`CREATE RETENTION POLICY "rollup_1h" ON "${db}" DURATION 365d REPLICATION 1`, 'POST');
    // One series for every (metric, entity) a panel reads, encoded the way the storage-writer does.
    const wanted = new Map<string, { metric: string; entity: EntityType }>();
    for (const q of dashboardQueries()) for (const s of sources(q.query)) if (s.entity && s.measurement !== 'events') wanted.set(`${s.measurement}|${s.entity}`, { metric: s.measurement, entity: s.entity as EntityType });
    const entityTags = (entity: EntityType, resourceId?: string): Record<string, string> => ({
      [TAGS.clusterName]: 'c1',
      ...(['node', 'pod', 'pod_container', 'sys_container'].includes(entity) ? { [TAGS.nodename]: 'n1' } : {}),
      ...(['pod', 'pod_container', 'ns', 'workload'].includes(entity) ? { [TAGS.namespaceName]: 'ns1' } : {}),
      ...(['pod', 'pod_container'].includes(entity) ? { [TAGS.podName]: 'p1', [TAGS.workloadKind]: 'Deployment', [TAGS.workloadName]: 'w1' } : {}),
      ...(entity === 'workload' ? { [TAGS.workloadKind]: 'Deployment', [TAGS.workloadName]: 'w1' } : {}),
      ...(entity === 'pod_container' ? { [TAGS.containerName]: 'c' } : {}),
      ...(resourceId ? { [TAGS.resourceId]: resourceId } : {}),
    });
    const native: MetricPoint[] = [];
    const windows: MetricPoint[] = [];
    for (const { metric, entity } of wanted.values()) {
      const tags = (e: EntityType, rid?: string) => (metric === EVENT_OCCURRENCES_METRIC ? { ...entityTags(e, rid), [TAGS.reason]: 'BackOff', [TAGS.eventType]: 'Warning' } : entityTags(e, rid));
      const def = findMetric(metric)!;
      for (const rid of def.extraTags?.includes('resource_id') ? ['/', 'Volume:data'] : [undefined]) {
        for (let i = 0; i < 4; i++) {
          const value = def.valueType === 'int' ? 1000 + i : 0.5 + i;
          native.push({ metric, entityType: entity, tags: tags(entity, rid), timestamp: now - i * step, value });
        }
        const start = Math.floor(now / 60_000) * 60_000 - 60_000;
        const v = def.valueType === 'int' ? 1000 : 0.5;
        windows.push({ metric, entityType: entity, tags: tags(entity, rid), timestamp: start, value: v, window: { start, end: start + 60_000, min: v, max: v, sum: v * 4, count: 4, last: v } });
      }
    }
    const raw = toLineProtocol(native, { schema });
    const rolled = toLineProtocol(windows, { schema });
    expect(raw.skipped).toEqual([]);
    await write('raw', raw.lines);
    await write('rollup_1m', rolled.lines);
    await write('rollup_1h', toLineProtocol(windows.map((p) => ({ ...p, timestamp: Math.floor(now / 3_600_000) * 3_600_000 })), { schema }).lines);
    const event: EventRecord = {
      schemaVersion: '1.0',
      id: 'e1:1',
      cluster: 'c1',
      occurrence: 1,
      occurrenceCount: 1,
      inferred: false,
      occurredAt: now - 30_000,
      observedAt: now,
      event: { uid: 'e1', namespace: 'ns1', name: 'p1.1', sourceApi: 'v1', type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container', reportingController: 'kubelet', sourceHost: 'n1', count: 1 },
      involvedObject: { kind: 'Pod', namespace: 'ns1', name: 'p1', uid: 'p1-uid' },
    };
    await write('raw', eventToLines(event, { measurements: ['events', 'log/events'], clusterName: 'c1' }));
  });

  afterAll(async () => {
    await influxQl(`DROP DATABASE "${db}"`, 'POST');
  });

  it.each(RESOLUTIONS)('panel and annotation queries at resolution %s run without error and return data', async (resolution) => {
    const problems: string[] = [];
    for (const q of dashboardQueries({ cluster: 'c1', resolution, timeFilter: 'time > now() - 3h' })) {
      const { status, body } = await influxQl(q.query);
      const err = body.error ?? body.results?.[0]?.error;
      if (status !== 200 || err) problems.push(`${q.dashboard} / ${q.panel}: ${err ?? status}\n  ${q.query}`);
      else if (!body.results?.[0]?.series?.length) problems.push(`${q.dashboard} / ${q.panel}: no data\n  ${q.query}`);
    }
    expect(problems).toEqual([]);
  });

  it('variable queries list the written tag values, narrowed by the variables before them', async () => {
    const values = async (name: string, v = {}) => {
      const q = variableQueries({ cluster: 'c1', ...v }).find((x) => x.panel === `variable: ${name}`)!;
      const { body } = await influxQl(q.query);
      return (body.results?.[0]?.series ?? []).flatMap((s) => s.values.map((r) => r[1]));
    };
    expect(await values('cluster')).toEqual(['c1']);
    expect(await values('node')).toEqual(['n1']);
    expect(await values('namespace')).toEqual(['ns1']);
    expect(await values('pod', { namespace: 'ns1' })).toEqual(['p1']);
    expect(await values('pod', { namespace: 'other' })).toEqual([]);
  });
});
