import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { rawScrapeCodec, TOPICS } from '@heapstream/contracts';
import { startSimulator, type Simulator } from '@heapstream/sim';
import { createTopics, testEnv, testKafka, uniqueName, waitFor } from '@heapstream/testing';
import { dashboardQueries } from './dashboards.js';
import { DeployedRbac } from './rbac-support.js';
import { containerEnv, kustomize, overlayDir, podSpec, ROOT, SERVICES, serviceWorkload } from './support.js';

/*
 * The container image without a Docker engine: the Dockerfile's shape, and its runtime
 * stage rebuilt in a temporary directory the way the image lays it out (/app/dist from
 * deploy/docker/bundle.mjs, package.json, node_modules, the entrypoint and health
 * check), then run on plain Node: every program starts, and the four services, each
 * with the token of its deploy/ ServiceAccount, carry the simulated cluster's metrics
 * and events into InfluxDB, where the dashboards' queries find them.
 */

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const app = mkdtempSync(join(tmpdir(), 'heapstream-image-'));
const entrypoint = join(ROOT, 'deploy/docker/entrypoint.sh');
const node = process.execPath;
const children: ChildProcess[] = [];
let bundleInputs: string[] = [];

function runProgram(args: string[], env: Record<string, string>, timeoutMs = 90_000) {
  const r = spawnSync('sh', [entrypoint, ...args], { encoding: 'utf8', timeout: timeoutMs, env: { PATH: `${join(node, '..')}:/usr/bin:/bin`, HOME: app, HEAPSTREAM_HOME: app, ...env } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

beforeAll(async () => {
  const { bundle } = (await import(join(ROOT, 'deploy/docker/bundle.mjs'))) as { bundle: (o: { root: string; outdir: string }) => Promise<{ inputs: string[] }> };
  bundleInputs = (await bundle({ root: ROOT, outdir: join(app, 'dist') })).inputs;
  copyFileSync(join(ROOT, 'package.json'), join(app, 'package.json'));
  copyFileSync(join(ROOT, 'deploy/docker/healthcheck.mjs'), join(app, 'healthcheck.mjs'));
  symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));
}, 120_000);

afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
});

describe('Dockerfile', () => {
  const stages = [...dockerfile.matchAll(/^FROM (\S+) AS (\S+)$/gm)].map((m) => ({ image: m[1]!, name: m[2]! }));
  const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));

  it('builds in stages on Node 24 and ships production dependencies only', () => {
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:24-slim$/m);
    expect(stages.map((s) => s.name)).toEqual(['build', 'deps', 'runtime']);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/RUN node deploy\/docker\/bundle\.mjs --outdir dist/);
    expect(runtime).toMatch(/COPY --from=deps .*\/src\/node_modules \.\/node_modules/);
    expect(runtime).toMatch(/COPY --from=build .*\/src\/dist \.\/dist/);
    expect(runtime).not.toMatch(/npm (ci|install)/);
  });

  it('runs as uid 10001 with a health check and one entrypoint for every program', () => {
    expect(runtime).toMatch(/useradd .*--uid 10001/);
    expect(runtime).toMatch(/^USER 10001:10001$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*CMD \["node", "\/app\/healthcheck\.mjs", "\/healthz"\]$/m);
    expect(runtime).toMatch(/^ENTRYPOINT \["\/usr\/local\/bin\/heapstream-entrypoint"\]$/m);
    expect(runtime).toMatch(/HEAPSTREAM_HTTP_HOST=0\.0\.0\.0/);
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8');
    expect(ignore).toMatch(/^\*\*\/node_modules$/m);
  });

  it('copies into the build stage everything the bundles are built from, and .dockerignore drops none of it', () => {
    for (const p of ['libs', 'services', 'tools', 'deploy/docker', 'tsconfig.base.json', 'package-lock.json']) expect(dockerfile, p).toContain(p);
    const sources = bundleInputs.filter((f) => !f.startsWith('node_modules/'));
    expect(sources.length).toBeGreaterThan(50);
    const copied = /^(libs|services|tools)\//;
    const ignored = [/(^|\/)testdata\//, /\.test\.ts$/, /^test\//, /^docs\//, /^deploy\/(base|overlays|grafana|compose)\//];
    expect(sources.filter((f) => !copied.test(f) || ignored.some((re) => re.test(f)))).toEqual([]);
  });
});

describe('the image runtime (rebuilt without Docker)', () => {
  it('bundles every program, importing only Node built-ins and production dependencies', () => {
    const allowed = new Set(Object.keys(pkg.dependencies));
    const builtins = new Set(builtinModules);
    const bundles = ['services/scraper', 'services/event-watcher', 'services/aggregator', 'services/storage-writer', 'tools/cli', 'tools/sim'].flatMap((project) =>
      readdirSync(join(app, 'dist', project))
        .filter((f) => f.endsWith('.js'))
        .map((f) => `${project}/${f}`),
    );
    // The scraper's worker threads start from their own bundle beside main.js.
    expect(bundles).toContain('services/scraper/scrape.worker.js');
    for (const project of bundles) {
      // Without comment lines: JSDoc type references (`{import('types').X}`) are not imports.
      const code = readFileSync(join(app, 'dist', project), 'utf8').replace(/^\s*(\*|\/\/).*$/gm, '');
      const specifiers = [...code.matchAll(/(?<![\w$.-])(?:from\s*|import\(\s*|require\(\s*)["']([@a-z0-9][\w./@-]*)["']/g)].map((m) => m[1]!);
      const packages = specifiers.filter((s) => !s.startsWith('node:') && !builtins.has(s)).map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!));
      expect([...new Set(packages)].filter((p) => !allowed.has(p)), project).toEqual([]);
    }
    expect(readdirSync(join(app, 'dist', 'services')).sort()).toEqual([...SERVICES].sort());
  });

  it.each(SERVICES)('starts %s on plain node: all modules link, and bad configuration fails naming the variable', (service) => {
    const r = runProgram([service], { KAFKA_BROKERS: 'not a broker list' });
    expect(r.out).not.toMatch(/SyntaxError|ERR_MODULE_NOT_FOUND|Cannot find (module|package)/);
    expect(r.out).toContain('KAFKA_BROKERS');
    expect(r.status).not.toBe(0);
  });

  it('also selects the program from $SERVICE, and refuses an unknown one', () => {
    const r = runProgram([], { SERVICE: 'aggregator', KAFKA_BROKERS: 'bad' });
    expect(r.out).toContain('KAFKA_BROKERS');
    const unknown = runProgram(['nope'], {});
    expect(unknown.status).toBe(64);
    expect(unknown.out).toContain('usage:');
  });

  it('runs the simulator on its own', () => {
    const standalone = runProgram(['sim', '--help'], {});
    expect(standalone.out).toContain('--kubeconfig');
    expect(standalone.status).toBe(0);
  });

  it('runs the simulator through the heapstream CLI (what docker-compose.yml starts)', () => {
    const cli = runProgram(['heapstream', 'sim', '--help'], {});
    expect(cli.out).toContain('--kubeconfig');
    expect(cli.status).toBe(0);
  });

  it("prints the package version, the image's tag, with heapstream --version", () => {
    const cli = runProgram(['heapstream', '--version'], {});
    expect(cli.out.trim()).toBe((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version);
    expect(cli.status).toBe(0);
  });

  it('runs its programs with the source-map preload beside the bundles', () => {
    expect(readFileSync(join(app, 'dist', 'runtime.mjs'), 'utf8')).toContain('setSourceMapsSupport');
    expect(readFileSync(entrypoint, 'utf8')).toMatch(/^node_flags=".*--import=\$app\/dist\/runtime\.mjs.*"$/m);
  });
});

describe('the bundled pipeline, each service with its deploy/ ServiceAccount token', () => {
  const env = testEnv();
  const run = uniqueName('img');
  const prefix = `${run}.`;
  const database = run.replace(/-/g, '_');
  const rbac = new DeployedRbac(run);
  const kafka = testKafka();
  const work = mkdtempSync(join(tmpdir(), 'heapstream-image-run-'));
  const deployed = kustomize(overlayDir('external')).objects;
  const logs = new Map<string, string[]>();
  const ports = new Map<string, number>();
  const basePort = 18_900 + Math.floor(Math.random() * 80);
  let sim: Simulator;

  const url = (service: string) => `http://127.0.0.1:${ports.get(service)}`;
  const logOf = (service: string) => (logs.get(service) ?? []).join('');

  /** Starts a bundled service through the image entrypoint, with its own token in a kubeconfig. */
  async function startBundled(service: (typeof SERVICES)[number], extra: Record<string, string>): Promise<void> {
    const port = basePort + ports.size;
    ports.set(service, port);
    // What the pod would get from deploy/ (ConfigMaps, env), then the test's endpoints and speed-ups.
    const container = podSpec(serviceWorkload(deployed, service)).containers[0]!;
    const fromDeploy = Object.fromEntries(Object.entries(containerEnv(deployed, container)).filter(([, v]) => v !== 'sample-secret'));
    const serviceEnv: Record<string, string> = {
      ...fromDeploy,
      PATH: `${join(node, '..')}:/usr/bin:/bin`,
      HOME: join(work, 'home'),
      HEAPSTREAM_HOME: app,
      HEAPSTREAM_HTTP_HOST: '127.0.0.1',
      HEAPSTREAM_HTTP_PORT: String(port),
      HEAPSTREAM_CLUSTER_NAME: run,
      HEAPSTREAM_TOPIC_PREFIX: prefix,
      KAFKA_BROKERS: env.KAFKA_BROKERS,
      ...extra,
    };
    if (service !== 'storage-writer') {
      const kc = await rbac.kubeConfig(service);
      writeFileSync(join(work, `${service}.kubeconfig`), kc.exportConfig());
      serviceEnv.KUBECONFIG = join(work, `${service}.kubeconfig`);
    }
    const child = spawn('sh', [entrypoint, service], { env: serviceEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const log: string[] = [];
    logs.set(service, log);
    child.stdout!.on('data', (d: Buffer) => log.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
    children.push(child);
    await waitFor(`bundled ${service} answers /healthz`, async () => (await fetch(`${url(service)}/healthz`).catch(() => undefined))?.ok === true, {
      timeoutMs: 60_000,
      alive: () => child.exitCode === null || (console.error(`${service} exited:\n${log.join('')}`), false),
    });
  }

  beforeAll(async () => {
    mkdirSync(join(work, 'home'));
    await rbac.create();
    const token = await rbac.token('scraper');
    writeFileSync(join(work, 'scraper.token'), token);
    // The simulated kubelets accept the scraper's ServiceAccount token, as a kubelet would after its TokenReview.
    sim = await startSimulator({
      kubeconfig: env.KUBECONFIG,
      nodes: 2,
      podsPerNode: 3,
      namePrefix: run.slice(0, 30).replace(/-$/, ''),
      addressOctet: 100 + Math.floor(Math.random() * 50),
      kubeletPort: 0,
      interval: '1s',
      eventsPerSecond: 2,
      tokens: [token],
      outDir: join(work, 'sim'),
      cleanup: true,
    });
    await sim.registered();
    await createTopics(kafka, [{ topic: `${prefix}${TOPICS.metricsRaw.name}`, numPartitions: 2 }]);
    await startBundled('storage-writer', {
      INFLUX_URL: env.INFLUX_URL,
      INFLUX_DATABASE: database,
      HEAPSTREAM_GROUP_ID: `${run}-storage-writer`,
      HEAPSTREAM_STORAGE_SCHEMA: 'heapster',
      HEAPSTREAM_EVENT_MEASUREMENTS: 'both',
      HEAPSTREAM_FETCH_LINGER: '20ms',
    });
    // Short windows so that the rollup retention policies fill within the test.
    await startBundled('aggregator', { HEAPSTREAM_ROLLUP_CYCLE: '2s', HEAPSTREAM_WINDOW_LATENESS: '3s', HEAPSTREAM_WINDOW_1M: '6s', HEAPSTREAM_WINDOW_1H: '12s', HEAPSTREAM_ENRICH: 'true' });
    await startBundled('event-watcher', { POD_NAME: 'heapstream-event-watcher-a', POD_NAMESPACE: run, EVENTS_FLUSH_INTERVAL: '50ms' });
    await startBundled('scraper', {
      KUBELET_AUTH: 'token',
      KUBELET_TOKEN_FILE: join(work, 'scraper.token'),
      KUBELET_CA_FILE: sim.caFile,
      SCRAPER_NODE_SELECTOR: `kubernetes.io/hostname in (${sim.nodes().map((n) => n.name).join(',')})`,
      SCRAPER_INTERVAL: '2s',
      SCRAPER_TIMEOUT: '1500ms',
      SCRAPER_SHARDS: '4',
      POD_NAME: 'heapstream-scraper-0',
    });
  }, 240_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await sim?.stop();
    await rbac.delete();
    await fetch(`${env.INFLUX_URL}/query?${new URLSearchParams({ q: `DROP DATABASE "${database}"` })}`, { method: 'POST' }).catch(() => undefined);
  }, 60_000);

  it('scraper: publishes a raw scrape of every simulated node, and the image health check passes', async () => {
    const seen = new Set<string>();
    const consumer = kafka.consumer({ groupId: uniqueName('img-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic: `${prefix}${TOPICS.metricsRaw.name}`, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const decoded = rawScrapeCodec.decode(message.value);
        if (decoded.ok) seen.add(decoded.value.node);
      },
    });
    const nodes = sim.nodes().map((n) => n.name);
    try {
      await waitFor('raw scrapes of both nodes', async () => nodes.every((n) => seen.has(n)), { timeoutMs: 60_000 });
    } finally {
      await consumer.disconnect();
    }
    const port = String(ports.get('scraper'));
    expect(spawnSync(node, [join(app, 'healthcheck.mjs'), '/healthz'], { env: { HEAPSTREAM_HTTP_PORT: port } }).status).toBe(0);
    // Readiness follows the scrape rounds; poll it with the same script.
    await waitFor('the health check script sees /readyz', async () => spawnSync(node, [join(app, 'healthcheck.mjs'), '/readyz'], { env: { HEAPSTREAM_HTTP_PORT: port } }).status === 0, { timeoutMs: 30_000 });
  });

  it('event-watcher: takes the Lease its Role allows, in its own namespace', async () => {
    const leases = rbac.admin.makeApiClient(CoordinationV1Api);
    await waitFor('the event-watcher holds heapstream-event-watcher', async () => {
      const lease = await leases.readNamespacedLease({ namespace: run, name: 'heapstream-event-watcher' }).catch(() => undefined);
      return lease?.spec?.holderIdentity?.includes('heapstream-event-watcher-a') === true;
    }, { timeoutMs: 60_000 });
  });

  it.each(['raw', 'rollup_1m', 'rollup_1h'])('fills the InfluxDB measurements the dashboards query at resolution %s', async (resolution) => {
    const wanted = [
      ['heapstream / Cluster', 'CPU usage [A]'],
      ['heapstream / Nodes', 'CPU usage (millicores) [A]'],
      ['heapstream / Namespaces & workloads', 'CPU usage by namespace (millicores) [A]'],
      ['heapstream / Namespaces & workloads', 'CPU usage by workload (millicores) [A]'],
      ['heapstream / Pods & containers', 'Pod memory working set [A]'],
      ['heapstream / Pods & containers', 'Container CPU usage (millicores) [A]'],
      // Events are written to the raw tier only, whatever the resolution.
      ['heapstream / Events', 'Events by reason [A]'],
    ];
    const queries = dashboardQueries({ cluster: run, resolution, timeFilter: 'time > now() - 15m' }).filter((q) => wanted.some(([d, p]) => q.dashboard === d && q.panel === p));
    expect(queries).toHaveLength(wanted.length);
    const empty = async () => {
      const out: string[] = [];
      for (const q of queries) {
        const res = await fetch(`${env.INFLUX_URL}/query?${new URLSearchParams({ db: database, q: q.query })}`);
        const body = (await res.json()) as { results?: { series?: unknown[]; error?: string }[] };
        if (!body.results?.[0]?.series?.length) out.push(`${q.dashboard} / ${q.panel}${body.results?.[0]?.error ? `: ${body.results[0].error}` : ''}`);
      }
      return out;
    };
    let missing: string[] = [];
    try {
      await waitFor('data for every selected panel', async () => (missing = await empty()).length === 0, { timeoutMs: 150_000 });
    } catch (err) {
      throw new Error(`${(err as Error).message}; still empty: ${missing.join(', ')}\n--- aggregator log tail ---\n${logOf('aggregator').slice(-3000)}\n--- storage-writer log tail ---\n${logOf('storage-writer').slice(-3000)}`);
    }
  }, 200_000);

  it('no service was refused by the API server', () => {
    for (const service of ['scraper', 'event-watcher', 'aggregator']) {
      const refused = logOf(service).split('\n').filter((l) => /\b403\b|[Ff]orbidden/.test(l));
      expect(refused.map((l) => l.slice(0, 400)), service).toEqual([]);
    }
  });
});
