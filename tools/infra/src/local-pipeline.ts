import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { Kafka, logLevel } from 'kafkajs';
import { TOPICS } from '@heapstream/contracts';
import { ensureTopics } from '@heapstream/kafka';
import { join } from 'node:path';
import { ProcessGroup, repoRoot, type ServiceName } from './pipeline.js';
import { stateDir } from './layout.js';
import { waitFor } from './processes.js';

export interface LocalPipelineOptions {
  /** The endpoints `infra up` printed. */
  infra: Record<string, string>;
  /** A real cluster: scrape and watch it instead of starting the simulator. */
  kubeconfig?: string;
  /** Simulator options as CLI flags, e.g. ['--nodes', '20']. */
  simArgs?: string[];
  /** Prefix for every topic, consumer group and the InfluxDB database (tests). */
  prefix?: string;
  cluster?: string;
  database?: string;
  /** Extra environment per service (tests: short intervals). */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  logDir?: string;
  basePort?: number;
  /** The services to start (default: all four). */
  services?: readonly ServiceName[];
  /** Run the bundles in this directory (`<dir>/services/<name>/main.js`, as the image does) instead of the sources under tsx. */
  bundleDir?: string;
  /** Node flags per service (profiling). */
  nodeArgs?: Partial<Record<ServiceName, string[]>>;
  /** Partitions of the raw topic when this creates it (default 1). */
  rawPartitions?: number;
  /** A simulator that already runs (its control URL, out dir and name prefix): not started here. */
  simulator?: { controlUrl: string; outDir: string; namePrefix: string };
}

export interface LocalPipeline {
  group: ProcessGroup;
  logDir: string;
  database: string;
  cluster: string;
  prefix: string;
  /** The simulator's control URL (ground truth), when it runs. */
  simControlUrl?: string;
  ports: Record<string, number>;
  stop(progress?: (line: string) => void): Promise<void>;
}

/**
 * The simulator runs as its own process so its CPU and memory are measured apart. Ready
 * when it serves its ground truth, and with `nodes` when that many nodes are listed
 * (a large cluster takes a while to register).
 */
export async function startSimulator(group: ProcessGroup, args: string[], infra: Record<string, string>, outDir: string, controlPort: number, nodes?: number): Promise<string> {
  group.start({
    name: 'simulator',
    entry: 'tools/cli/src/main.ts',
    args: ['sim', '--out-dir', outDir, '--control-port', String(controlPort), ...args],
    port: controlPort,
    env: { KUBECONFIG: infra.KUBECONFIG ?? '' },
  });
  const url = `http://127.0.0.1:${controlPort}`;
  const ready = async () => {
    const res = await fetch(`${url}/truth/nodes`);
    return res.ok && (nodes === undefined || ((await res.json()) as { nodes: unknown[] }).nodes.length === nodes);
  };
  await waitFor('simulator', ready, { timeoutMs: nodes === undefined ? 120_000 : 600_000, alive: () => group.isAlive('simulator') });
  return url;
}

/**
 * Starts the simulator (unless a real cluster is given) and the four services as
 * child processes wired to the local infrastructure. Used by `heapstream up` and by
 * the end-to-end tests, so both exercise exactly the same wiring.
 */
export async function startLocalPipeline(o: LocalPipelineOptions): Promise<LocalPipeline> {
  const prefix = o.prefix ?? '';
  const cluster = o.cluster ?? 'local';
  const database = o.database ?? `${prefix.replace(/[^a-z0-9_]/gi, '_')}k8s`;
  if (!o.logDir) pruneOldRuns();
  const logDir = o.logDir ?? mkdtempSync(join(stateDir, 'pipeline-'));
  mkdirSync(logDir, { recursive: true });
  const base = o.basePort ?? 18_400;
  const ports = { simulator: base, scraper: base + 1, 'event-watcher': base + 2, aggregator: base + 3, 'storage-writer': base + 4 };
  const group = new ProcessGroup(logDir);
  try {
    return await startAll(o, { prefix, cluster, database, logDir, ports, group });
  } catch (err) {
    // Leave nothing half-started behind.
    await group.stopAll();
    throw err;
  }
}

/** Runs kept: log folders beyond the newest this many, and older than a day, are removed. */
const KEPT_RUNS = 10;
const DAY_MS = 86_400_000;

/** Removes old `pipeline-*` log folders so they do not pile up under the state directory. */
function pruneOldRuns(): void {
  if (!existsSync(stateDir)) return;
  const runs = readdirSync(stateDir)
    .filter((name) => name.startsWith('pipeline-'))
    .map((name) => ({ path: join(stateDir, name), mtime: statSync(join(stateDir, name)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const run of runs.slice(KEPT_RUNS)) if (Date.now() - run.mtime > DAY_MS) rmSync(run.path, { recursive: true, force: true });
}

/** Creates the pipeline's data topics up front, as an install step would, so start order does not matter. */
async function ensurePipelineTopics(brokers: string, prefix: string, rawPartitions: number): Promise<void> {
  const kafka = new Kafka({ clientId: 'heapstream-up', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const data = [TOPICS.metrics, TOPICS.rollup1m, TOPICS.rollup1h, TOPICS.events, TOPICS.deadLetter];
  // One raw partition: the aggregator's namespace and cluster rollups are complete only
  // within a partition (docs/aggregator.md), and one partition carries a small cluster.
  await ensureTopics(kafka, [{ name: prefix + TOPICS.metricsRaw.name, partitions: rawPartitions, logAppendTime: true }, ...data.map((t) => ({ name: prefix + t.name, partitions: 3 }))]);
}

async function startAll(
  o: LocalPipelineOptions,
  { prefix, cluster, database, logDir, ports, group }: { prefix: string; cluster: string; database: string; logDir: string; ports: Record<ServiceName | 'simulator', number>; group: ProcessGroup },
): Promise<LocalPipeline> {
  await ensurePipelineTopics(o.infra.KAFKA_BROKERS ?? '', prefix, o.rawPartitions ?? 1);
  let simControlUrl: string | undefined;
  let kubeconfig = o.kubeconfig ?? o.infra.KUBECONFIG ?? '';
  const kubelet: Record<string, string> = {};
  if (!o.kubeconfig) {
    let sim = o.simulator;
    if (!sim) {
      const outDir = join(logDir, 'sim');
      const args = o.simArgs ?? [];
      const namePrefix = args.includes('--name-prefix') ? args[args.indexOf('--name-prefix') + 1]! : 'sim';
      sim = { controlUrl: await startSimulator(group, args, o.infra, outDir, ports.simulator), outDir, namePrefix };
    }
    simControlUrl = sim.controlUrl;
    kubelet.KUBELET_CA_FILE = join(sim.outDir, 'ca.crt');
    kubelet.KUBELET_TOKEN_FILE = join(sim.outDir, 'token');
    kubelet.SCRAPER_NODE_SELECTOR = `heapstream.io/sim-prefix=${sim.namePrefix}`;
    kubeconfig = o.infra.KUBECONFIG ?? '';
  }
  const common = {
    KAFKA_BROKERS: o.infra.KAFKA_BROKERS ?? '',
    HEAPSTREAM_TOPIC_PREFIX: prefix,
    HEAPSTREAM_CLUSTER_NAME: cluster,
    KUBECONFIG: kubeconfig,
    LOG_LEVEL: 'info',
  };
  const all: [ServiceName, Record<string, string>][] = [
    // The services derive their group, Lease and transactional ids from HEAPSTREAM_TOPIC_PREFIX, so two
    // pipelines on one broker and API server (tests, tenants) never join each other's groups or fence each other.
    ['storage-writer', { INFLUX_URL: o.infra.INFLUX_URL ?? '', INFLUX_DATABASE: database }],
    ['aggregator', {}],
    // A shared or long-lived API server holds many old Events: export only the recent ones at first start.
    ['event-watcher', { POD_NAME: `${prefix}event-watcher-0`, POD_NAMESPACE: 'default', EVENTS_BACKFILL_MAX_AGE: '5m' }],
    ['scraper', kubelet],
  ];
  const specs = all.filter(([name]) => !o.services || o.services.includes(name));
  // Downstream first, so nothing produced is waiting for a consumer that is not there yet.
  for (const [name, env] of specs) {
    const entry = o.bundleDir ? join(o.bundleDir, 'services', name, 'main.js') : `services/${name}/src/main.ts`;
    group.start({ name, entry, port: ports[name], env: { ...common, ...env, ...(o.serviceEnv?.[name] ?? {}) }, ...(o.nodeArgs?.[name] ? { nodeArgs: o.nodeArgs[name] } : {}) });
  }
  for (const [name] of specs) await group.waitHealthy(name, 120_000);

  return {
    group,
    logDir,
    database,
    cluster,
    prefix,
    ...(simControlUrl ? { simControlUrl } : {}),
    ports,
    async stop(progress = () => undefined) {
      // Intake first (scraper, event-watcher), then the stages that flush. A Ctrl-C in a
      // terminal reaches the services too (one process group): those already stopped by it
      // are reported all the same.
      for (const name of ['scraper', 'event-watcher', 'aggregator', 'storage-writer', 'simulator']) {
        if (!group.has(name)) continue;
        const code = await group.stop(name);
        progress(`${name}: stopped${code ? ` (exit ${code})` : ''}`);
      }
    },
  };
}

export { repoRoot };
