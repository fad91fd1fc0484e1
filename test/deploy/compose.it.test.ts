import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { addSimOptions, cliToOptions } from '@heapstream/sim';
import { parseSimOptions } from '../../tools/sim/src/config.js';
import { checkServiceEnv, requiredKeys, ROOT, SERVICE_SCHEMAS, SERVICES, type ServiceName } from './support.js';

// docker-compose.yml checked without a Docker engine: structure, images, health checks,
// start order, and that every service's command and environment are what it reads.

interface ComposeService {
  image?: string;
  build?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[]; disable?: boolean };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  network_mode?: string;
  read_only?: boolean;
  tmpfs?: string[];
  cap_drop?: string[];
  restart?: string;
  profiles?: string[];
  user?: string;
}
interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

function load(file: string): { data: ComposeFile; text: string } {
  const text = readFileSync(join(ROOT, file), 'utf8');
  // merge: the `<<: *anchor` keys compose resolves. Compose's own !reset / !override
  // tags are unknown to the yaml package, which keeps their values (warnings only).
  const doc = parseDocument(text, { merge: true });
  if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
  return { data: doc.toJS() as ComposeFile, text };
}

/** Compose variable interpolation with the defaults written in the file (`${VAR:-default}`). */
function interpolate(value: string, env: Record<string, string> = {}): string {
  return value.replace(/\$\{(\w+)(?::?[-?]([^}]*))?\}/g, (_m, name: string, fallback: string | undefined) => env[name] ?? fallback ?? '');
}

const compose = load('docker-compose.yml').data;
const services = compose.services;
const HEAPSTREAM_IMAGE = '${HEAPSTREAM_IMAGE:-heapstream:dev}';
const ONE_SHOT = ['kube-init', 'kube-ready'];
/** kube-apiserver's image has no shell or client for a health check; kube-ready waits for its /readyz instead. */
const NO_HEALTHCHECK = ['kube-apiserver', ...ONE_SHOT];
const entrypointPrograms = (() => {
  const script = readFileSync(join(ROOT, 'deploy/docker/entrypoint.sh'), 'utf8');
  return [...script.matchAll(/^\s+([\w| -]+)\)\s*$/gm)].flatMap((m) => m[1]!.split('|').map((s) => s.trim()));
})();

describe('docker-compose.yml', () => {
  it('has Kafka, InfluxDB 1.8, Grafana, the simulated cluster and the four services', () => {
    expect(Object.keys(services).sort()).toEqual(['aggregator', 'etcd', 'event-watcher', 'grafana', 'influxdb', 'kafka', 'kube-apiserver', 'kube-init', 'kube-ready', 'prometheus', 'scraper', 'sim', 'storage-writer'].sort());
    expect(services.kafka!.image).toMatch(/^apache\/kafka:\d/);
    expect(services.kafka!.environment).toMatchObject({ KAFKA_PROCESS_ROLES: 'broker,controller', KAFKA_ADVERTISED_LISTENERS: 'PLAINTEXT://kafka:9092' });
    expect(services.influxdb!.image).toMatch(/^influxdb:1\.8/);
    expect(services.grafana!.image).toMatch(/^grafana\/grafana:\d/);
    expect(services.etcd!.image).toMatch(/^registry\.k8s\.io\/etcd:/);
    expect(services['kube-apiserver']!.image).toMatch(/^registry\.k8s\.io\/kube-apiserver:v1\.34\./);
    for (const s of [...SERVICES, 'sim', ...ONE_SHOT]) {
      expect(services[s]!.image, s).toBe(HEAPSTREAM_IMAGE);
      expect(services[s]!.build, s).toBe('.');
    }
  });

  it('gives every long-running service a health check', () => {
    for (const [name, s] of Object.entries(services)) {
      if (NO_HEALTHCHECK.includes(name)) continue;
      expect(s.healthcheck?.disable, name).not.toBe(true);
      expect(s.healthcheck?.test?.[0], name).toBe('CMD');
    }
    for (const s of SERVICES) expect(services[s]!.healthcheck!.test).toEqual(['CMD', 'node', '/app/healthcheck.mjs', '/healthz']);
  });

  it('starts in order: every dependency has a condition its target can meet, and there is no cycle', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const [dep, { condition }] of Object.entries(s.depends_on ?? {})) {
        expect(services[dep], `${name} -> ${dep}`).toBeDefined();
        if (condition === 'service_healthy') expect(services[dep]!.healthcheck?.test, `${name} waits for ${dep} to be healthy`).toBeDefined();
        else if (condition === 'service_completed_successfully') expect(services[dep]!.restart, `${dep} runs once`).toBe('no');
        else expect(condition, `${name} -> ${dep}`).toBe('service_started');
      }
    }
    const cond = (a: string, b: string) => services[a]!.depends_on?.[b]?.condition;
    for (const s of [...SERVICES, 'sim']) expect(cond(s, 'kafka'), s).toBe('service_healthy');
    for (const s of ['scraper', 'event-watcher', 'aggregator', 'sim']) expect(cond(s, 'kube-ready'), s).toBe('service_completed_successfully');
    expect(cond('storage-writer', 'influxdb')).toBe('service_healthy');
    expect(cond('grafana', 'influxdb')).toBe('service_healthy');
    expect(cond('scraper', 'sim')).toBe('service_healthy');
    expect(cond('kube-apiserver', 'etcd')).toBe('service_healthy');
    expect(cond('kube-apiserver', 'kube-init')).toBe('service_completed_successfully');
    // Topological order exists.
    const order: string[] = [];
    const visiting = new Set<string>();
    const visit = (n: string) => {
      if (order.includes(n)) return;
      if (visiting.has(n)) throw new Error(`dependency cycle through ${n}`);
      visiting.add(n);
      for (const d of Object.keys(services[n]!.depends_on ?? {})) visit(d);
      order.push(n);
    };
    for (const n of Object.keys(services)) visit(n);
    expect(order.indexOf('kafka')).toBeLessThan(order.indexOf('scraper'));
  });

  it.each(SERVICES)('runs %s through the image entrypoint with only settings it reads, all it needs, and valid values', (service: ServiceName) => {
    const s = services[service]!;
    expect(s.command).toEqual([service]);
    expect(entrypointPrograms).toContain(service);
    const env = Object.fromEntries(Object.entries(s.environment ?? {}).map(([k, v]) => [k, interpolate(String(v))]));
    expect(checkServiceEnv(service, env)).toEqual([]);
    for (const k of requiredKeys(SERVICE_SCHEMAS[service])) expect(env, `${service} needs ${k}`).toHaveProperty(k);
    expect(env.HEAPSTREAM_HTTP_HOST).toBe('0.0.0.0');
    // Hardened like the pods: read-only root, /tmp only, no capabilities.
    expect(s.read_only).toBe(true);
    expect(s.tmpfs).toEqual(['/tmp']);
    expect(s.cap_drop).toEqual(['ALL']);
  });

  it('runs the simulator with the CLI and options it accepts, and the scraper in its network namespace', () => {
    const sim = services.sim!;
    const [program, subcommand, ...args] = sim.command!.map((a) => interpolate(a));
    expect([program, subcommand]).toEqual(['heapstream', 'sim']);
    expect(entrypointPrograms).toContain('heapstream');
    const cmd = addSimOptions(new Command('sim')).exitOverride().allowExcessArguments(false);
    let opts: Record<string, unknown> = {};
    cmd.action((o: Record<string, unknown>) => {
      opts = o;
    });
    try {
      cmd.parse(args, { from: 'user' });
    } catch (err) {
      throw new Error(`heapstream sim ${args.join(' ')}: ${(err as CommanderError).message}`);
    }
    const config = parseSimOptions(cliToOptions(opts));
    expect(config.kubeconfig).toBe('/kube/kubeconfig');
    expect(config.outDir).toBe('/sim');
    expect(config.nodes).toBeGreaterThan(0);
    // The kubelets listen on 127.x inside the sim container: the scraper shares its network.
    const scraper = services.scraper!;
    expect(scraper.network_mode).toBe('service:sim');
    expect(scraper.environment).toMatchObject({ KUBELET_TOKEN_FILE: '/sim/token', KUBELET_CA_FILE: '/sim/ca.crt', KUBECONFIG: '/kube/kubeconfig' });
    expect(scraper.volumes).toContain('sim:/sim:ro');
    expect(sim.volumes).toContain('sim:/sim');
    expect(sim.healthcheck?.test).toEqual(['CMD', 'node', '/app/healthcheck.mjs', `http://127.0.0.1:${config.controlPort}/healthz`]);
  });

  it('mounts files that exist, and Grafana gets the same provisioning files as Kubernetes', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const v of s.volumes ?? []) {
        const source = v.split(':')[0]!;
        if (source.startsWith('.')) expect(existsSync(join(ROOT, source)), `${name}: ${v}`).toBe(true);
        else expect(compose.volumes, `${name}: named volume ${source}`).toHaveProperty(source);
      }
    }
    expect(services.grafana!.volumes).toEqual(
      expect.arrayContaining([
        './deploy/grafana/provisioning/datasources/influxdb.yaml:/etc/grafana/provisioning/datasources/influxdb.yaml:ro',
        './deploy/grafana/provisioning/dashboards:/etc/grafana/provisioning/dashboards:ro',
        './deploy/grafana/dashboards:/etc/grafana/dashboards/heapstream:ro',
      ]),
    );
    for (const s of ONE_SHOT) expect(services[s]!.entrypoint?.[1], s).toMatch(/^\/deploy\/compose\/kube-(init|ready)\.mjs$/);
  });

  it('has a Prometheus scraping every service, provisioned in Grafana for the pipeline-health dashboard', () => {
    expect(services.prometheus!.image).toMatch(/^prom\/prometheus:v\d/);
    const config = parseDocument(readFileSync(join(ROOT, 'deploy/compose/prometheus.yml'), 'utf8')).toJS() as { scrape_configs: { static_configs: { targets: string[] }[] }[] };
    const targets = config.scrape_configs.flatMap((c) => c.static_configs.flatMap((t) => t.targets)).sort();
    // The scraper is reached through the sim container whose network it shares.
    expect(targets).toEqual(['aggregator:8080', 'event-watcher:8080', 'sim:8080', 'storage-writer:8080']);
    expect(services.scraper!.network_mode).toBe('service:sim');
    const ds = parseDocument(readFileSync(join(ROOT, 'deploy/compose/grafana-prometheus.yaml'), 'utf8')).toJS() as { datasources: { type: string; url: string }[] };
    expect(ds.datasources).toEqual([expect.objectContaining({ type: 'prometheus', url: 'http://prometheus:9090' })]);
  });
});

describe('deploy/compose/real-cluster.yml', () => {
  const { data: override, text } = load('deploy/compose/real-cluster.yml');
  it('switches the simulated cluster off and points the services at the given kubeconfig through the API server proxy', () => {
    for (const s of ['kube-init', 'etcd', 'kube-apiserver', 'kube-ready', 'sim']) expect(override.services[s]!.profiles, s).toEqual(['simulated']);
    for (const s of ['scraper', 'event-watcher', 'aggregator'] as const) {
      const merged = Object.fromEntries(
        Object.entries({ ...services[s]!.environment, ...override.services[s]!.environment }).map(([k, v]) => [k, interpolate(String(v))]),
      );
      expect(merged.KUBECONFIG).toBe('/kube-real/config');
      expect(checkServiceEnv(s, merged)).toEqual([]);
      expect(Object.keys(override.services[s]!.depends_on ?? {})).toEqual(['kafka']);
    }
    expect(override.services.scraper!.environment!.KUBELET_AUTH).toBe('proxy');
    expect(text).toMatch(/scraper:\n\s+network_mode: !reset null/);
    expect(text.match(/depends_on: !override/g)).toHaveLength(3);
  });
});
