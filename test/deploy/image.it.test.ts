import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rawScrapeCodec, TOPICS } from '@heapstream/contracts';
import { startSimulator, type Simulator } from '@heapstream/sim';
import { createTopics, testEnv, testKafka, uniqueName, waitFor } from '@heapstream/testing';
import { DeployedRbac } from './rbac-support.js';
import { ROOT, SERVICES } from './support.js';

/*
 * The container image without a Docker engine: the Dockerfile's shape, and its runtime
 * stage rebuilt in a temporary directory the way the image lays it out (/app/dist from
 * deploy/docker/bundle.mjs, package.json, node_modules, the entrypoint and health
 * check), then run on plain Node: every program starts, and the scraper scrapes the
 * simulated cluster with the token of deploy/'s scraper ServiceAccount.
 */

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
const app = mkdtempSync(join(tmpdir(), 'heapstream-image-'));
const entrypoint = join(ROOT, 'deploy/docker/entrypoint.sh');
const node = process.execPath;
const children: ChildProcess[] = [];

function runProgram(args: string[], env: Record<string, string>, timeoutMs = 30_000) {
  const r = spawnSync('sh', [entrypoint, ...args], { encoding: 'utf8', timeout: timeoutMs, env: { PATH: `${join(node, '..')}:/usr/bin:/bin`, HOME: app, HEAPSTREAM_HOME: app, ...env } });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

beforeAll(async () => {
  const { bundle } = (await import(join(ROOT, 'deploy/docker/bundle.mjs'))) as { bundle: (o: { root: string; outdir: string }) => Promise<void> };
  await bundle({ root: ROOT, outdir: join(app, 'dist') });
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

  it('copies into the build stage everything the bundles are built from', () => {
    for (const p of ['libs', 'services', 'tools', 'deploy/docker', 'tsconfig.base.json', 'package-lock.json']) expect(dockerfile, p).toContain(p);
  });
});

describe('the image runtime (rebuilt without Docker)', () => {
  it('bundles every program, importing only Node built-ins and production dependencies', () => {
    const allowed = new Set(Object.keys(pkg.dependencies));
    const builtins = new Set(builtinModules);
    for (const project of ['services/scraper', 'services/event-watcher', 'services/aggregator', 'services/storage-writer', 'tools/cli', 'tools/sim']) {
      // Without comment lines: JSDoc type references (`{import('types').X}`) are not imports.
      const code = readFileSync(join(app, 'dist', project, 'main.js'), 'utf8').replace(/^\s*(\*|\/\/).*$/gm, '');
      const specifiers = [...code.matchAll(/(?:from\s*|import\(\s*|require\(\s*)["']([^"'./][^"']*)["']/g)].map((m) => m[1]!);
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
});

describe('the bundled scraper with the deploy/ scraper ServiceAccount token', () => {
  const env = testEnv();
  const run = uniqueName('img');
  const rbac = new DeployedRbac(run);
  const kafka = testKafka();
  let sim: Simulator;
  let port: number;

  beforeAll(async () => {
    await rbac.create();
    const token = await rbac.token('scraper');
    const work = mkdtempSync(join(tmpdir(), 'heapstream-image-run-'));
    const kc = await rbac.kubeConfig('scraper');
    writeFileSync(join(work, 'kubeconfig'), kc.exportConfig());
    writeFileSync(join(work, 'token'), token);
    // The simulated kubelets accept the ServiceAccount token, as a kubelet would after its TokenReview.
    sim = await startSimulator({ kubeconfig: env.KUBECONFIG, nodes: 2, podsPerNode: 2, namePrefix: run.slice(0, 30).replace(/-$/, ''), addressOctet: 100 + Math.floor(Math.random() * 50), kubeletPort: 0, interval: '1s', tokens: [token], outDir: join(work, 'sim'), cleanup: true });
    await sim.registered();
    await createTopics(kafka, [{ topic: `${run}.${TOPICS.metricsRaw.name}` }]);
    mkdirSync(join(work, 'tmp'));
    port = 18_900 + Math.floor(Math.random() * 90);
    const child = spawn('sh', [entrypoint, 'scraper'], {
      env: {
        PATH: `${join(node, '..')}:/usr/bin:/bin`,
        HOME: join(work, 'tmp'),
        HEAPSTREAM_HOME: app,
        HEAPSTREAM_HTTP_HOST: '127.0.0.1',
        HEAPSTREAM_HTTP_PORT: String(port),
        HEAPSTREAM_CLUSTER_NAME: run,
        HEAPSTREAM_TOPIC_PREFIX: `${run}.`,
        KAFKA_BROKERS: env.KAFKA_BROKERS,
        KUBECONFIG: join(work, 'kubeconfig'),
        KUBELET_AUTH: 'token',
        KUBELET_TOKEN_FILE: join(work, 'token'),
        KUBELET_CA_FILE: sim.caFile,
        SCRAPER_NODE_SELECTOR: `kubernetes.io/hostname in (${sim.nodes().map((n) => n.name).join(',')})`,
        SCRAPER_INTERVAL: '2s',
        SCRAPER_TIMEOUT: '1500ms',
        SCRAPER_SHARDS: '4',
        POD_NAME: 'heapstream-scraper-0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const log: string[] = [];
    child.stdout!.on('data', (d: Buffer) => log.push(d.toString()));
    child.stderr!.on('data', (d: Buffer) => log.push(d.toString()));
    children.push(child);
    await waitFor('the bundled scraper answers /healthz', async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok === true, {
      timeoutMs: 60_000,
      alive: () => child.exitCode === null || (console.error(log.join('')), false),
    });
  }, 180_000);

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await sim?.stop();
    await rbac.delete();
  }, 60_000);

  it('publishes a raw scrape of every simulated node, and the image health check passes', async () => {
    const seen = new Set<string>();
    const consumer = kafka.consumer({ groupId: uniqueName('img-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic: `${run}.${TOPICS.metricsRaw.name}`, fromBeginning: true });
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
    const health = spawnSync(node, [join(app, 'healthcheck.mjs'), '/healthz'], { env: { HEAPSTREAM_HTTP_PORT: String(port) } });
    expect(health.status).toBe(0);
    const ready = spawnSync(node, [join(app, 'healthcheck.mjs'), '/readyz'], { env: { HEAPSTREAM_HTTP_PORT: String(port) } });
    expect(ready.status).toBe(0);
  });
});
