/**
 * Whole-pipeline benchmark (not a test): the real servers, one simulated cluster, and
 * heapstream's scraper, aggregator and storage-writer as the image runs them (esbuild
 * bundles on plain Node 24), measured over whole scrape rounds until drained; with
 * `--vs telegraf`, Telegraf on the same kubelets, alternated A/B. Prints one table per
 * run and, for pairs, the medians of the ratios.
 *
 *   ./heapstream bench pipeline --nodes 200 --pods-per-node 30 --rounds 8 [--vs telegraf --pairs 3] [--schema wide] [--profile]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Command, InvalidArgumentError } from 'commander';
import { Kafka, logLevel } from 'kafkajs';
import { bundleServices } from '../bundle.js';
import { up } from '../infra.js';
import { stateDir } from '../layout.js';
import { startLocalPipeline, startSimulator } from '../local-pipeline.js';
import { ProcessGroup, repoRoot, type ServiceName } from '../pipeline.js';
import { waitFor } from '../processes.js';
import { summarizeCpuProfile } from './cpu-profile.js';
import { groupLag, influxQuery, okSummaries, procSample, resetPeakRss, roundDurations, serverPid, shardStats, simNodes, simServed, sumShards, type ProcSample, type ShardTotals, type SimNode } from './measure.js';
import { comparisonTable, runTable, type RunFigures } from './report.js';
import { startTelegraf } from './telegraf.js';

interface Options {
  nodes: number;
  podsPerNode: number;
  rounds: number;
  warmupRounds: number;
  interval: number;
  vs?: 'telegraf';
  pairs: number;
  schema: 'heapster' | 'wide';
  rawPartitions: number;
  profile: boolean;
  drainTimeout: number;
  /** Leave each run's database in InfluxDB for inspection (the next run then shares the server with it). */
  keepDatabase: boolean;
  /** Extra Node flags for the three services (an experiment, e.g. GC sizing). */
  nodeFlags: string[];
}

const SERVICES: ServiceName[] = ['scraper', 'aggregator', 'storage-writer'];
const SIM_PREFIX = 'bench';
/** Nodes whose scrape → queryable latency is sampled (each costs InfluxDB a query every 500 ms). */
const SENTINELS = 3;

const log = (line: string) => console.error(`[bench] ${line}`);

interface Context {
  o: Options;
  infra: Record<string, string>;
  sim: { controlUrl: string; outDir: string; namePrefix: string };
  nodes: SimNode[];
  kafka: Kafka;
  runDir: string;
  influxUrl: string;
}

/**
 * The next round start at least `leadMs` from now that is also a minute boundary (when the
 * interval divides a minute): every run then closes the same number of 1-minute windows
 * per measured minute, and runs compare.
 */
const nextRound = (intervalMs: number, leadMs = 0) => {
  const step = 60_000 % intervalMs === 0 ? 60_000 : intervalMs;
  return Math.ceil((Date.now() + leadMs) / step) * step;
};

/** Polls the sentinels' newest node sample; each new one's latency is now − when its kubelet answered. */
function latencySampler(ctx: Context, query: (node: string) => string, db: string): { stop(): number[] } {
  const latencies: number[] = [];
  const lastSeen = new Map<string, number>();
  let stopped = false;
  const loop = async () => {
    while (!stopped) {
      for (const node of ctx.nodes.slice(0, SENTINELS)) {
        try {
          const [s] = await influxQuery(ctx.influxUrl, query(node.name), db);
          const t = Number(s?.values[0]?.[0]);
          if (!Number.isFinite(t)) continue;
          const before = lastSeen.get(node.name);
          lastSeen.set(node.name, t);
          if (before === undefined || t <= before) continue;
          const seenAt = Date.now();
          const answered = okSummaries(await simServed(ctx.sim.controlUrl, node.name), 0, seenAt).at(-1);
          if (answered) latencies.push(seenAt - answered.atMs);
        } catch {
          // the database or series may not exist yet
        }
      }
      await sleep(500);
    }
  };
  void loop();
  return {
    stop() {
      stopped = true;
      return latencies;
    },
  };
}

interface Sampled {
  at: number;
  procs: Map<string, ProcSample | undefined>;
  influx: ProcSample | undefined;
  kafka: ProcSample | undefined;
}

/** The servers' peaks restart at each run's measured interval. */
function resetServerPeaks(): void {
  resetPeakRss(serverPid('influxdb'));
  resetPeakRss(serverPid('kafka'));
}

function sampleAll(pids: Map<string, number | undefined>): Sampled {
  return {
    at: Date.now(),
    procs: new Map([...pids].map(([name, pid]) => [name, procSample(pid)])),
    influx: procSample(serverPid('influxdb')),
    kafka: procSample(serverPid('kafka')),
  };
}

/** One run's figures from what was sampled at its start (`before`) and once drained (`after`). */
function runFigures(o: {
  collector: string;
  nodes: number;
  rounds: number;
  names: string[];
  before: Sampled;
  after: Sampled;
  statsBefore: Record<string, ShardTotals>;
  stats: Record<string, ShardTotals>;
  loss: { expected: number; found: number; rounds: number[] };
  latencyMs: number[];
  drainSeconds: number;
}): RunFigures {
  const total = sumShards(o.stats);
  const before = sumShards(o.statsBefore);
  const writtenByRp = Object.fromEntries(
    Object.entries(o.stats).map(([rp, t]) => [rp, { values: t.writeValuesOk - (o.statsBefore[rp]?.writeValuesOk ?? 0), lines: t.writePointsOk - (o.statsBefore[rp]?.writePointsOk ?? 0) }]),
  );
  const written = Object.values(writtenByRp);
  const delta = (a: ProcSample | undefined, b: ProcSample | undefined) => (a?.cpuSeconds ?? Number.NaN) - (b?.cpuSeconds ?? Number.NaN);
  return {
    collector: o.collector,
    rounds: o.rounds,
    processes: o.names.map((name) => ({ name, cpuSeconds: delta(o.after.procs.get(name), o.before.procs.get(name)), peakRssBytes: o.after.procs.get(name)?.peakRssBytes ?? Number.NaN })),
    influxCpuSeconds: delta(o.after.influx, o.before.influx),
    influxPeakRssBytes: o.after.influx?.peakRssBytes ?? Number.NaN,
    kafkaCpuSeconds: delta(o.after.kafka, o.before.kafka),
    valuesWritten: written.reduce((n, w) => n + w.values, 0),
    linesWritten: written.reduce((n, w) => n + w.lines, 0),
    seriesByRp: Object.fromEntries(Object.entries(o.stats).map(([rp, t]) => [rp, t.seriesCreate])),
    writtenByRp,
    nodes: o.nodes,
    diskBytes: total.diskBytes - before.diskBytes,
    roundMs: o.loss.rounds,
    latencyMs: o.latencyMs,
    drainSeconds: o.drainSeconds,
    expectedNodeSamples: o.loss.expected,
    foundNodeSamples: o.loss.found,
  };
}

/** Node samples the kubelets served in [from, to) and how many of them InfluxDB has. */
/**
 * Every node sample the kubelets served with 200 in [from, to), looked up in what was
 * stored: heapstream stores a scrape's points at its cycle start (the answer's time
 * floored to the interval), so each answer is matched exactly; Telegraf stamps its own
 * gather time, so its points are counted, not matched.
 */
async function loss(ctx: Context, from: number, to: number, stored: (from: number, to: number) => Promise<Map<string, Set<number>>>, exact: boolean): Promise<{ expected: number; found: number; rounds: number[] }> {
  const found = await stored(from - 60_000, to + 60_000);
  let expected = 0;
  let hit = 0;
  const answers = [];
  for (const node of ctx.nodes) {
    const ok = okSummaries(await simServed(ctx.sim.controlUrl, node.name), from, to);
    answers.push(...ok);
    expected += ok.length;
    const have = found.get(node.name) ?? new Set();
    const interval = ctx.o.interval;
    hit += exact ? ok.filter((r) => have.has(Math.floor(r.atMs / interval) * interval)).length : Math.min(ok.length, [...have].filter((t) => t >= from && t < to).length);
  }
  return { expected, found: hit, rounds: roundDurations(answers, from, ctx.o.interval, ctx.o.rounds) };
}

const byNode = (rows: InfluxSeriesRows, tag: string): Map<string, Set<number>> => {
  const out = new Map<string, Set<number>>();
  for (const s of rows) out.set(s.tags?.[tag] ?? '', new Set(s.values.map((v) => Number(v[0]))));
  return out;
};
type InfluxSeriesRows = Awaited<ReturnType<typeof influxQuery>>;

async function runHeapstream(ctx: Context, index: number, bundleDir: string): Promise<RunFigures> {
  const { o } = ctx;
  const prefix = `bench${process.pid}x${index}.`;
  const database = `bench_${process.pid}_${index}`;
  const logDir = join(ctx.runDir, `heapstream-${index}`);
  const profileDir = join(logDir, 'profiles');
  const measurement = o.schema === 'wide' ? { m: 'memory', f: 'working_set' } : { m: 'memory/working_set', f: 'value' };
  log(`run ${index}: heapstream (${o.schema} layout), logs in ${logDir}`);
  const pipeline = await startLocalPipeline({
    infra: ctx.infra,
    simulator: ctx.sim,
    prefix,
    database,
    logDir,
    basePort: 18_600,
    services: SERVICES,
    bundleDir,
    rawPartitions: o.rawPartitions,
    nodeArgs: Object.fromEntries(SERVICES.map((s) => [s, [...o.nodeFlags, ...(o.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${s}.cpuprofile`] : [])]])),
    serviceEnv: {
      scraper: { SCRAPER_INTERVAL: `${o.interval}ms`, LOG_LEVEL: 'warn' },
      aggregator: { AGGREGATOR_EVENT_COUNTS: 'false', LOG_LEVEL: 'warn' },
      'storage-writer': { HEAPSTREAM_STORAGE_SCHEMA: o.schema, LOG_LEVEL: 'warn' },
    },
  });
  const group = pipeline.group;
  try {
    const pids = new Map(SERVICES.map((s) => [s, group.pid(s)]));
    const sampler = latencySampler(ctx, (node) => `SELECT last("${measurement.f}") FROM "raw"."${measurement.m}" WHERE "type" = 'node' AND "nodename" = '${node}'`, database);
    await waitFor('the first node points in InfluxDB', async () => ((await shardStats(ctx.influxUrl, database)).raw?.writePointsOk ?? 0) > 0, { timeoutMs: 180_000 });
    const t0 = nextRound(o.interval, o.warmupRounds * o.interval);
    await sleep(t0 - Date.now());
    resetServerPeaks();
    const before = sampleAll(pids);
    const statsBefore = await shardStats(ctx.influxUrl, database);
    log(`run ${index}: measuring ${o.rounds} rounds from ${new Date(t0).toISOString()}`);
    const tEnd = t0 + o.rounds * o.interval;
    // Stop the scraper just before the next round would start: exactly `rounds` rounds of input.
    await sleep(tEnd - 1_000 - Date.now());
    const scraperAtStop = procSample(pids.get('scraper'));
    await group.stop('scraper');
    const drainStart = Date.now();
    let drained = Number.NaN;
    let stable = 0;
    while (Date.now() - drainStart < o.drainTimeout) {
      const dead = SERVICES.filter((name) => name !== 'scraper' && !group.isAlive(name));
      if (dead.length > 0) {
        log(`run ${index}: ${dead.join(', ')} exited before draining (see ${logDir})`);
        break;
      }
      const { lag, partitions } = await groupLag(ctx.kafka, prefix);
      stable = lag <= partitions ? stable + 1 : 0;
      if (stable >= 3) {
        drained = (Date.now() - Math.max(tEnd, drainStart)) / 1000;
        break;
      }
      await sleep(1_000);
    }
    if (Number.isNaN(drained)) log(`run ${index}: not drained within ${o.drainTimeout / 1000} s`);
    const after = sampleAll(pids);
    after.procs.set('scraper', scraperAtStop);
    const latencyMs = sampler.stop();
    const stats = await shardStats(ctx.influxUrl, database);
    const stored = async (from: number, to: number) =>
      byNode(await influxQuery(ctx.influxUrl, `SELECT "${measurement.f}" FROM "raw"."${measurement.m}" WHERE "type" = 'node' AND time >= ${from}ms AND time < ${to}ms GROUP BY "nodename"`, database), 'nodename');
    return runFigures({ nodes: o.nodes, collector: `heapstream-${o.schema}`, rounds: o.rounds, names: SERVICES, before, after, statsBefore, stats, loss: await loss(ctx, t0, tEnd, stored, true), latencyMs, drainSeconds: drained });
  } finally {
    await pipeline.stop();
    await dropDatabase(ctx, database);
    if (o.profile) printProfiles(profileDir);
  }
}

async function runTelegraf(ctx: Context, index: number): Promise<RunFigures> {
  const { o } = ctx;
  const database = `bench_telegraf_${process.pid}_${index}`;
  const dir = join(ctx.runDir, `telegraf-${index}`);
  log(`run ${index}: telegraf, logs in ${dir}`);
  const telegraf = startTelegraf({ dir, database, influxUrl: ctx.influxUrl, intervalMs: o.interval, kubeletCa: join(ctx.sim.outDir, 'ca.crt'), kubeletTokenFile: join(ctx.sim.outDir, 'token') });
  try {
    const pid = () => telegraf.child.pid;
    const sampler = latencySampler(ctx, (node) => `SELECT last("memory_working_set_bytes") FROM "kubernetes_node" WHERE "node_name" = '${node}'`, database);
    await waitFor('the first Telegraf points in InfluxDB', async () => ((await shardStats(ctx.influxUrl, database)).autogen?.writePointsOk ?? 0) > 0, { timeoutMs: 180_000, alive: () => telegraf.child.exitCode === null });
    const t0 = nextRound(o.interval, o.warmupRounds * o.interval);
    await sleep(t0 - Date.now());
    const pids = new Map([['telegraf', pid()]]);
    resetServerPeaks();
    const before = sampleAll(pids);
    const statsBefore = await shardStats(ctx.influxUrl, database);
    log(`run ${index}: measuring ${o.rounds} rounds from ${new Date(t0).toISOString()}`);
    const tEnd = t0 + o.rounds * o.interval;
    await sleep(tEnd - 1_000 - Date.now());
    // Telegraf writes as it gathers: what is left is at most one flush.
    await sleep(2_000);
    const after = sampleAll(pids);
    const latencyMs = sampler.stop();
    const stats = await shardStats(ctx.influxUrl, database);
    const stored = async (from: number, to: number) =>
      byNode(await influxQuery(ctx.influxUrl, `SELECT "memory_working_set_bytes" FROM "kubernetes_node" WHERE time >= ${from}ms AND time < ${to}ms GROUP BY "node_name"`, database), 'node_name');
    // Telegraf writes as it gathers: nothing to drain.
    return runFigures({ nodes: o.nodes, collector: 'telegraf', rounds: o.rounds, names: ['telegraf'], before, after, statsBefore, stats, loss: await loss(ctx, t0, tEnd, stored, false), latencyMs, drainSeconds: 0 });
  } finally {
    await telegraf.stop();
    await dropDatabase(ctx, database);
  }
}

/** Each run's database is dropped afterwards: the next run's InfluxDB starts without its series. */
async function dropDatabase(ctx: Context, database: string): Promise<void> {
  if (ctx.o.keepDatabase) return log(`kept database ${database}`);
  await influxQuery(ctx.influxUrl, `DROP DATABASE "${database}"`).catch((err: unknown) => log(`could not drop ${database}: ${(err as Error).message}`));
}

function printProfiles(dir: string): void {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  } catch {
    return;
  }
  for (const f of files) {
    const summary = summarizeCpuProfile(JSON.parse(readFileSync(join(dir, f), 'utf8')), 25);
    console.log(`\nprofile ${join(dir, f)}\n${summary}`);
  }
}

/** One simulated cluster for every run of the bench, registered in the API server. */
async function startBenchSimulator(o: Options, infra: Record<string, string>, runDir: string): Promise<{ group: ProcessGroup; controlUrl: string; outDir: string }> {
  const group = new ProcessGroup(runDir);
  const outDir = join(runDir, 'sim');
  const args = ['--cleanup', '--nodes', String(o.nodes), '--pods-per-node', String(o.podsPerNode), '--interval', '10s', '--name-prefix', SIM_PREFIX, '--address-octet', '93', '--kubelet-port', '10250'];
  const controlUrl = await startSimulator(group, args, infra, outDir, 18_690, o.nodes);
  return { group, controlUrl, outDir };
}

export async function benchPipeline(o: Options): Promise<void> {
  const infra = await up({ progress: (line) => log(line) });
  if (o.vs === 'telegraf') {
    const r = spawnSync('bash', [join(repoRoot, 'tools/infra/provision.sh'), 'telegraf'], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error('building Telegraf failed (see above)');
  }
  log('bundling the services (esbuild, as the image) …');
  const bundleDir = bundleServices(SERVICES, 'bench');
  mkdirSync(stateDir, { recursive: true });
  const runDir = mkdtempSync(join(stateDir, 'bench-pipeline-'));
  log(`starting the simulator: ${o.nodes} nodes × ${o.podsPerNode} pods (logs in ${runDir}) …`);
  const sim = await startBenchSimulator(o, infra, runDir);
  const kafka = new Kafka({ clientId: 'pipeline-bench', brokers: (infra.KAFKA_BROKERS ?? '').split(','), logLevel: logLevel.NOTHING });
  const ctx: Context = { o, infra, sim: { controlUrl: sim.controlUrl, outDir: sim.outDir, namePrefix: SIM_PREFIX }, nodes: await simNodes(sim.controlUrl), kafka, runDir, influxUrl: infra.INFLUX_URL ?? '' };
  const pairs: { a: RunFigures; b: RunFigures }[] = [];
  const runs: RunFigures[] = [];
  try {
    for (let i = 0; i < (o.vs ? o.pairs : 1); i++) {
      // Alternate which goes first, so a drift of the shared machine does not favour one side.
      const order = i % 2 === 0 ? ['heapstream', 'telegraf'] : ['telegraf', 'heapstream'];
      const got: Record<string, RunFigures> = {};
      for (const which of order) {
        if (which === 'telegraf' && !o.vs) continue;
        const r = which === 'heapstream' ? await runHeapstream(ctx, i, bundleDir) : await runTelegraf(ctx, i);
        got[which] = r;
        runs.push(r);
        console.log(`\n${runTable(r)}\n`);
      }
      if (got.heapstream && got.telegraf) pairs.push({ a: got.heapstream, b: got.telegraf });
    }
    console.log(`\n${o.nodes} nodes × ${o.podsPerNode} pods, ${o.interval / 1000} s interval, ${o.rounds} measured rounds per run, ${o.rawPartitions} raw partition(s), layout ${o.schema}${o.nodeFlags.length ? `, node flags ${o.nodeFlags.join(' ')}` : ''}; CPU counted until drained`);
    if (pairs.length > 0) console.log(comparisonTable(pairs));
    writeFileSync(join(runDir, 'figures.json'), JSON.stringify({ options: o, runs }, null, 2));
    log(`figures saved in ${join(runDir, 'figures.json')}`);
  } finally {
    await sim.group.stopAll();
  }
}

const int = (min: number) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be an integer ≥ ${min}`);
  return n;
};

if (import.meta.url === `file://${process.argv[1]}`) {
  const o = new Command('pipeline-bench')
    .option('--nodes <n>', 'simulated nodes', int(1), 200)
    .option('--pods-per-node <n>', 'pods per node', int(0), 30)
    .option('--rounds <n>', 'measured scrape rounds per run (whole minutes of rounds compare best: the 1m windows close once a minute)', int(1), 8)
    .option('--warmup-rounds <n>', 'rounds after the first stored point before measuring', int(0), 2)
    .option('--interval <ms>', 'scrape interval in ms (both collectors)', int(1000), 15_000)
    .option('--vs <collector>', 'also run this collector on the same kubelets, alternated A/B: telegraf', (v) => {
      if (v !== 'telegraf') throw new InvalidArgumentError('the only yardstick is telegraf');
      return v;
    })
    .option('--pairs <n>', 'A/B pairs with --vs', int(1), 3)
    .option('--schema <layout>', 'storage layout: wide (the default, as deployed) or heapster', (v) => {
      if (v !== 'heapster' && v !== 'wide') throw new InvalidArgumentError('must be heapster or wide');
      return v;
    }, 'wide')
    .option('--raw-partitions <n>', 'partitions of the raw topic', int(1), 1)
    .option('--profile', 'CPU-profile the services (--cpu-prof) and print each profile\'s top functions', false)
    .option('--node-flags <flags>', 'extra Node flags for the services, space-separated (e.g. "--max-semi-space-size=32")', (v) => v.split(/\s+/).filter(Boolean), [] as string[])
    .option('--keep-database', 'leave each run\'s database in InfluxDB for inspection', false)
    .option('--drain-timeout <ms>', 'longest wait for the consumer groups to catch up after the last round', int(1000), 600_000)
    .parse()
    .opts<Options>();
  benchPipeline(o).then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(`pipeline bench: ${(err as Error).stack ?? err}`);
      process.exit(1);
    },
  );
}
