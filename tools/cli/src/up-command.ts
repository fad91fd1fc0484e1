import type { Command } from 'commander';
import { bundleServices, SERVICE_NAMES, startLocalPipeline, status as infraStatus, down, up, type LocalPipeline } from '@heapstream/infra';
import { parsePrometheusText } from './status/prometheus-text.js';
import { renderRows, serviceRow, type ServiceSnapshot } from './status/service-status.js';
import { existingFile, nonNegativeNumber, positiveNumber, wholeNumber } from './options.js';

/**
 * Node flags for the services of a small simulated cluster: about half the memory, at a
 * CPU cost that only matters under load (3x at 200 nodes; docs/performance.md).
 */
export const SMALL_CLUSTER_NODE_FLAGS = '--optimize-for-size --max-semi-space-size=2';
const SMALL_CLUSTER_NODES = 50;

interface UpOptions {
  kubeconfig?: string;
  nodes: number;
  podsPerNode: number;
  eventsPerSecond: number;
  status: boolean;
  duration?: number;
}

async function snapshot(pipeline: LocalPipeline, name: string): Promise<ServiceSnapshot> {
  const at = Date.now();
  const alive = pipeline.group.isAlive(name);
  if (!alive) return { name, at, alive, ready: false, samples: [] };
  const base = pipeline.group.url(name);
  try {
    const [metrics, ready] = await Promise.all([fetch(`${base}/metrics`).then((r) => r.text()), fetch(`${base}/readyz`)]);
    const body = (await ready.json().catch(() => ({}))) as { checks?: Record<string, { ok: boolean; detail?: string }> };
    const failing = Object.entries(body.checks ?? {}).find(([, c]) => !c.ok);
    return { name, at, alive, ready: ready.ok, ...(failing ? { readyDetail: `${failing[0]}: ${failing[1].detail ?? ''}` } : {}), samples: parsePrometheusText(metrics) };
  } catch {
    return { name, at, alive, ready: false, readyDetail: 'not answering yet', samples: [] };
  }
}

/**
 * `heapstream up`: the quick start. Sets up and starts the local infrastructure, the
 * simulated cluster (or watches the cluster of --kubeconfig) and the four services,
 * then shows a live status until Ctrl-C, which stops everything it started, in order.
 */
export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('set up and run the whole pipeline locally, on a simulated cluster unless --kubeconfig is given')
    .option('--kubeconfig <path>', 'scrape and watch this real cluster instead of the simulator', existingFile)
    .option('--nodes <n>', 'simulated nodes', wholeNumber(1), 20)
    .option('--pods-per-node <n>', 'simulated pods per node', wholeNumber(0), 10)
    .option('--events-per-second <n>', 'simulated Kubernetes Events per second', nonNegativeNumber, 2)
    .option('--no-status', 'print a status line every 10 s instead of a refreshing table')
    .option('--duration <seconds>', 'stop after this many seconds (default: until Ctrl-C)', positiveNumber)
    .action(async (o: UpOptions) => {
      const progress = (line: string) => console.error(`[up] ${line}`);
      const infraWasUp = (await infraStatus()).every((s) => s.ready);
      const infra = await up({ progress });
      progress(o.kubeconfig ? `starting the services against ${o.kubeconfig}` : `starting a simulated cluster (${o.nodes} nodes × ${o.podsPerNode} pods) and the services`);
      progress('bundling the services (esbuild, as the image runs them)');
      const bundleDir = bundleServices(SERVICE_NAMES, 'up');
      // A small simulated cluster: the services trade CPU for memory (HEAPSTREAM_NODE_FLAGS,
      // deploy/docker/entrypoint.sh), unless the caller chose their own flags.
      const nodeFlags = process.env.HEAPSTREAM_NODE_FLAGS ?? (!o.kubeconfig && o.nodes <= SMALL_CLUSTER_NODES ? SMALL_CLUSTER_NODE_FLAGS : '');
      const pipeline = await startLocalPipeline({
        infra,
        bundleDir,
        serviceEnv: Object.fromEntries(SERVICE_NAMES.map((name) => [name, { HEAPSTREAM_NODE_FLAGS: nodeFlags }])),
        ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
        simArgs: ['--cleanup', '--nodes', String(o.nodes), '--pods-per-node', String(o.podsPerNode), '--events-per-second', String(o.eventsPerSecond), '--churn', '20', '--restart-rate', '0.5', '--interval', '15s'],
      });
      progress(`services started; logs in ${pipeline.logDir}`);

      let stopping = false;
      const stop = async (why: string) => {
        if (stopping) return;
        stopping = true;
        clearInterval(timer);
        progress(`${why}: stopping the pipeline (intake first, then flush)`);
        await pipeline.stop(progress);
        if (!infraWasUp) {
          await down({ progress });
          progress('infrastructure stopped; everything this command started is stopped');
        } else progress('infrastructure was already running before: left running (./heapstream infra down stops it)');
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('Ctrl-C'));
      process.once('SIGTERM', () => void stop('SIGTERM'));

      const names = ['scraper', 'event-watcher', 'aggregator', 'storage-writer'];
      const previous = new Map<string, ServiceSnapshot>();
      const footer = [
        '',
        `InfluxDB   ${infra.INFLUX_URL}  database "${pipeline.database}" (retention policies raw, 1m, 1h)`,
        `Kafka      ${infra.KAFKA_BROKERS}  (./heapstream tail metrics | raw | events | deadletter)`,
        `Grafana    not started here: docker compose up (docker-compose.yml) or deploy/overlays/all-in-one provisions the dashboards`,
        `logs       ${pipeline.logDir}`,
        'Ctrl-C stops everything this command started.',
      ];
      const interactive = o.status && process.stdout.isTTY;
      let ticks = 0;
      const render = async () => {
        const snaps = await Promise.all(names.map((n) => snapshot(pipeline, n)));
        const rows = snaps.map((s) => serviceRow(s, previous.get(s.name)));
        snaps.forEach((s) => previous.set(s.name, s));
        const lines = [`heapstream ${new Date().toISOString()}  cluster "${pipeline.cluster}"${pipeline.simControlUrl ? `  simulator ${pipeline.simControlUrl}` : ''}`, '', ...renderRows(rows), ...footer];
        if (interactive) process.stdout.write(`\x1b[H\x1b[2J${lines.join('\n')}\n`);
        // Without a terminal (a log, a pipe): the table with its header and the time, every 10 s.
        else if (ticks++ % 5 === 0) console.log([`--- ${new Date().toISOString()}`, ...renderRows(rows)].join('\n'));
      };
      const timer = setInterval(() => void render(), 2_000);
      if (o.duration) setTimeout(() => void stop(`${o.duration} s elapsed`), o.duration * 1000);
    });
}
