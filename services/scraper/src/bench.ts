/**
 * Scraper benchmark (not a test): a simulator child process serves N nodes × P pods
 * on loopback without registering them; this process runs the service's scrape path
 * (aligned rounds, scrape workers or the main thread: kubelet client over TLS with a
 * token, parser, encoder; batched idempotent publishing to the real Kafka) for a number
 * of rounds and prints one table. `--replicas k` measures one replica of k.
 *
 *   ./heapstream bench scraper --nodes 5000 --pods-per-node 30 --rounds 6 [--workers 2] [--replicas 4]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { Kafka, logLevel } from 'kafkajs';
import { rawScrapeCodec, TOPICS } from '@heapstream/contracts';
import { compressionOf, configureCompression, ensureTopics, kafkaConfigSchema, type Compression } from '@heapstream/kafka';
import { scrapeToPoints } from '@heapstream/metric-model';
import { processStats, quantile } from '@heapstream/observability';
import type { KubeletTarget } from './discovery/kubelet-target.js';
import { scraperConfigSchema } from './config.js';
import { createNodeScraper } from './node-scrapers.js';
import { ScrapePublisher } from './publish/scrape-publisher.js';
import { RoundScheduler, type RoundReport } from './schedule/round-scheduler.js';
import { StaticOwnership } from './sharding/ownership.js';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

interface Options {
  nodes: number;
  podsPerNode: number;
  rounds: number;
  interval: number;
  concurrency: number;
  workers: number;
  replicas: number;
  jitter: number;
  brokers: string;
  compression: Compression;
  compressionLevel?: number;
}

async function waitForNodes(controlUrl: string, expected: number, alive: () => boolean): Promise<{ name: string; address: string; port: number }[]> {
  for (;;) {
    if (!alive()) throw new Error('the simulator exited before it served its nodes');
    try {
      const { nodes } = (await (await fetch(`${controlUrl}/truth/nodes`)).json()) as { nodes: { name: string; address: string; port: number }[] };
      if (nodes.length === expected) return nodes;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function benchScraper(o: Options, log: (line: string) => void = console.log): Promise<void> {
  const outDir = mkdtempSync(join(tmpdir(), 'scraper-bench-'));
  const controlPort = 19_500 + Math.floor(Math.random() * 400);
  const token = `bench-token-${process.pid}`;
  const sim = spawn(
    join(repoRoot, 'node_modules/.bin/node'),
    ['--import', 'tsx', join(repoRoot, 'tools/cli/src/main.ts'), 'sim', '--no-register', '--nodes', String(o.nodes), '--pods-per-node', String(o.podsPerNode), '--interval', `${o.interval / 1000}s`, '--address-octet', '91', '--kubelet-port', '10250', '--token', token, '--out-dir', outDir, '--control-port', String(controlPort)],
    { cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, TSX_TSCONFIG_PATH: join(repoRoot, 'tsconfig.json') } },
  );
  const simAlive = () => sim.exitCode === null;
  try {
    log(`starting the simulator: ${o.nodes} nodes × ${o.podsPerNode} pods …`);
    const nodes = await waitForNodes(`http://127.0.0.1:${controlPort}`, o.nodes, simAlive);
    // With --replicas k, this process is replica 0 of k (static shards, as SCRAPER_SHARDING=static).
    const share = new StaticOwnership(0, o.replicas);
    const targets: KubeletTarget[] = nodes.filter((n) => share.owns(n.name)).map((n) => ({ node: n.name, host: n.address, port: n.port }));

    const kafka = new Kafka({ clientId: 'scraper-bench', brokers: o.brokers.split(','), logLevel: logLevel.NOTHING });
    const topic = `bench-${process.pid}.${TOPICS.metricsRaw.name}`;
    const admin = kafka.admin();
    await admin.connect();
    await ensureTopics(kafka, [{ name: topic, partitions: 12, retentionMs: 600_000 }]);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    const kafkaConfig = { KAFKA_COMPRESSION: o.compression, KAFKA_COMPRESSION_LEVEL: o.compressionLevel };
    configureCompression(kafkaConfig);
    const publisher = new ScrapePublisher(producer, { topic, compression: compressionOf(kafkaConfig), maxRecordBytes: 16 * 1024 * 1024 });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(outDir, 'bench-token'), token);
    // The service's own scrape path: worker threads (SCRAPER_WORKERS) fetch, parse and encode.
    const nodeScraper = createNodeScraper({
      access: { mode: 'token', tokenFile: join(outDir, 'bench-token'), caFile: join(outDir, 'ca.crt'), insecureSkipVerify: false },
      client: { maxBodyBytes: 64 << 20, maxSockets: o.concurrency },
      cluster: 'bench',
      workers: o.workers,
      logger: { error: (...a: unknown[]) => console.error(...a), info: () => undefined },
    });
    await nodeScraper.ready();

    // Values are counted once per node, in the warm-up round (decoding the record is not on
    // the scraper's path); the bench's simulator runs without churn, so the count holds.
    const valuesOf = new Map<string, number>();
    const countValues = (node: string, value: Buffer): number => {
      let known = valuesOf.get(node);
      if (known === undefined) {
        const decoded = rawScrapeCodec.decode(value);
        if (!decoded.ok) throw decoded.error;
        valuesOf.set(node, (known = scrapeToPoints(decoded.value).length));
      }
      return known;
    };
    let values = 0;
    let failures = 0;
    let bytes = 0;
    const nodeLatencies: number[] = [];
    const reports: RoundReport[] = [];
    const scheduler = new RoundScheduler<KubeletTarget>({
      intervalMs: o.interval,
      jitterMs: o.jitter,
      concurrency: o.concurrency,
      targets: () => targets,
      scrape: async (t, _roundStart, slot) => {
        try {
          const startedAt = Date.now();
          const record = await nodeScraper.scrape(t, o.interval - 1_000);
          bytes += record.bodyBytes;
          values += countValues(t.node, record.value);
          await publisher.publishEncoded(record, slot);
          nodeLatencies.push(Date.now() - startedAt);
        } catch (err) {
          failures++;
          throw err;
        }
      },
      onRound: (r) => reports.push(r),
    });

    // One warm-up round (TLS handshakes, JIT), then the measured rounds at aligned times.
    log('warm-up round …');
    await scheduler.runRound(Date.now());
    values = 0;
    failures = 0;
    bytes = 0;
    nodeLatencies.length = 0;
    reports.length = 0;
    const cpuBefore = processStats().cpuSeconds;
    const mainCpuBefore = process.threadCpuUsage();
    const simCpuBefore = processStats(sim.pid!).cpuSeconds;
    let peakRss = 0;
    // process.memoryUsage.rss(), not processStats(): that lists /proc/self/fd, slow with thousands of sockets.
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 250);
    for (let i = 0; i < o.rounds; i++) {
      const start = Math.ceil((Date.now() + 1) / o.interval) * o.interval;
      await new Promise((r) => setTimeout(r, start - Date.now()));
      await scheduler.runRound(start);
      log(`round ${i + 1}/${o.rounds}: ${reports.at(-1)!.succeeded}/${reports.at(-1)!.scheduled} nodes in ${reports.at(-1)!.durationMs} ms`);
    }
    clearInterval(sampler);
    await publisher.drain();
    const cpu = processStats().cpuSeconds - cpuBefore;
    const mainCpuUsed = process.threadCpuUsage(mainCpuBefore);
    const mainCpu = (mainCpuUsed.user + mainCpuUsed.system) / 1e6;
    const simCpu = processStats(sim.pid!).cpuSeconds - simCpuBefore;
    const durations = reports.map((r) => r.durationMs);
    const mem = process.memoryUsage();
    const mib = (b: number) => (b / 1024 / 1024).toFixed(0);
    const rows: [string, string][] = [
      ['nodes × pods', `${o.nodes} × ${o.podsPerNode}`],
      ['replica', o.replicas === 1 ? 'the only one: every node' : `1 of ${o.replicas}: ${targets.length} nodes`],
      ['scrape workers', o.workers === 0 ? '0 (main thread)' : String(o.workers)],
      ['interval, jitter, compression', `${o.interval / 1000} s, ${o.jitter / 1000} s, ${o.compression}${o.compressionLevel !== undefined ? ` level ${o.compressionLevel}` : ''}`],
      ['rounds measured', String(o.rounds)],
      ['node scrapes ok / failed', `${nodeLatencies.length} / ${failures}`],
      ['round time p50 / p99 / max', `${quantile(durations, 0.5)} / ${quantile(durations, 0.99)} / ${Math.max(...durations)} ms`],
      ['node scrape p50 / p99', `${quantile(nodeLatencies, 0.5)} / ${quantile(nodeLatencies, 0.99)} ms`],
      ['values per round', String(Math.round(values / o.rounds))],
      ['values/s (at this interval)', String(Math.round(values / o.rounds / (o.interval / 1000)))],
      ['kubelet bytes per round', `${(bytes / o.rounds / 1024 / 1024).toFixed(1)} MiB`],
      ['scraper CPU-s per round', (cpu / o.rounds).toFixed(2)],
      ['  of which main thread (Kafka, schedule)', (mainCpu / o.rounds).toFixed(2)],
      ['scraper CPU-s per million values', (cpu / (values / 1e6)).toFixed(2)],
      ['scraper peak RSS', `${(peakRss / 1024 / 1024).toFixed(0)} MiB`],
      ['scraper heap total / external at end', `${mib(mem.heapTotal)} / ${mib(mem.external)} MiB`],
      ['simulator CPU-s per round (peer)', (simCpu / o.rounds).toFixed(2)],
      ['simulator RSS (peer)', `${(processStats(sim.pid!).rssBytes / 1024 / 1024).toFixed(0)} MiB`],
    ];
    const width = Math.max(...rows.map(([k]) => k.length));
    log('');
    for (const [k, v] of rows) log(`${k.padEnd(width)}  ${v}`);
    await nodeScraper.close();
    await producer.disconnect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
  } finally {
    sim.kill('SIGTERM');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const o = new Command('scraper-bench')
    .option('--nodes <n>', 'simulated nodes', (v) => Number(v), 5000)
    .option('--pods-per-node <n>', 'pods per node', (v) => Number(v), 30)
    .option('--rounds <n>', 'measured rounds', (v) => Number(v), 4)
    .option('--interval <ms>', 'scrape interval in ms', (v) => Number(v), 15_000)
    .option('--concurrency <n>', 'requests in flight (SCRAPER_CONCURRENCY)', (v) => Number(v), 64)
    .option('--workers <n|auto>', 'scrape worker threads, as SCRAPER_WORKERS (default: the service\'s, 0 = main thread)', (v) => scraperConfigSchema.shape.SCRAPER_WORKERS.parse(v), scraperConfigSchema.shape.SCRAPER_WORKERS.parse(undefined))
    .option('--jitter <ms>', 'node start times spread over this much of each round (SCRAPER_JITTER)', (v) => Number(v), scraperConfigSchema.shape.SCRAPER_JITTER.parse(undefined))
    .option('--replicas <k>', 'measure one replica of k (static sharding): it scrapes its ~1/k of the nodes', (v) => Number(v), 1)
    .option('--brokers <list>', 'Kafka', process.env.KAFKA_BROKERS ?? '127.0.0.1:19092')
    .option('--compression <none|gzip|zstd>', 'Kafka record compression (KAFKA_COMPRESSION)', kafkaConfigSchema.shape.KAFKA_COMPRESSION.parse(undefined))
    .option('--compression-level <n>', 'KAFKA_COMPRESSION_LEVEL (default: the codec\'s)', (v) => Number(v))
    .parse()
    .opts<Options>();
  benchScraper(o).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`scraper bench: ${(err as Error).message}`);
      process.exit(1);
    },
  );
}
