/*
 * Storage-writer throughput on the local servers (not a test):
 *   npx tsx services/storage-writer/bench/bench.ts [--nodes 5000] [--pods 30] [--rounds 1] [--schema heapster|wide]
 * Produces `rounds` scrape rounds of a simulated cluster (one record per node, ~5 points
 * per pod plus 5 per node) to fresh topics, then starts the writer as a child process
 * and times it from joining the group to zero lag. CPU and peak RSS are the child's own
 * (/proc), so the producer and InfluxDB are not counted.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { CompressionTypes } from 'kafkajs';
import { metricPointBatchCodec, nodeKey, TOPICS } from '@heapstream/contracts';
import { consumerLag, ensureTopics } from '@heapstream/kafka';
import { processStats } from '@heapstream/observability';
import { testEnv, testKafka } from '@heapstream/testing';
import { dropDatabase, influxQl, recentTimes, simulatedBatches, writerSetup } from '../src/testing/it-support.js';

const { values: args } = parseArgs({
  options: {
    nodes: { type: 'string', default: '5000' },
    pods: { type: 'string', default: '30' },
    rounds: { type: 'string', default: '1' },
    schema: { type: 'string', default: 'heapster' },
    keep: { type: 'boolean', default: false },
    'records-per-send': { type: 'string', default: '250' },
  },
});
const nodes = Number(args.nodes);
const pods = Number(args.pods);
const rounds = Number(args.rounds);

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });

function procStats(pid: number): { cpuSeconds: number; rssMiB: number; peakRssMiB: number } {
  const s = processStats(pid);
  return { cpuSeconds: s.cpuSeconds, rssMiB: s.rssBytes / 2 ** 20, peakRssMiB: s.peakRssBytes / 2 ** 20 };
}

/** The local InfluxDB's process (from `heapstream infra`), to report its share too. */
function influxPid(): number | undefined {
  try {
    return (JSON.parse(readFileSync(join(testEnv().HEAPSTREAM_STATE, 'influxdb.pid'), 'utf8')) as { pid: number }).pid;
  } catch {
    return undefined;
  }
}

/** The workspace aliases (@heapstream/*) from tsconfig.base.json, for esbuild. */
function aliases(): Record<string, string> {
  const paths = (JSON.parse(readFileSync('tsconfig.base.json', 'utf8')) as { compilerOptions: { paths: Record<string, string[]> } }).compilerOptions.paths;
  return Object.fromEntries(Object.entries(paths).map(([k, [v]]) => [k, `./${v}`]));
}

const kafka = testKafka('storage-writer-bench');
const port = await freePort();
const setup = writerSetup({ ...(process.env.HEAPSTREAM_FETCH_MAX_BYTES ? { HEAPSTREAM_FETCH_MAX_BYTES: process.env.HEAPSTREAM_FETCH_MAX_BYTES } : {}), HEAPSTREAM_STORAGE_SCHEMA: args.schema!, HEAPSTREAM_TOPIC_PARTITIONS: '6', HEAPSTREAM_HTTP_PORT: String(port), LOG_LEVEL: 'warn' });
const topic = setup.prefix + TOPICS.metrics.name;
await ensureTopics(kafka, [TOPICS.metrics, TOPICS.rollup1m, TOPICS.rollup1h, TOPICS.events, TOPICS.deadLetter].map((t) => ({ name: setup.prefix + t.name, partitions: 6 })));

// Produce first, so that the writer's figures are its own.
const producer = kafka.producer();
await producer.connect();
let points = 0;
let records = 0;
const times = recentTimes(rounds);
const produceStarted = Date.now();
for (const t of times) {
  const perSend = Number(args['records-per-send']);
  for (let first = 0; first < nodes; first += perSend) {
    const batches = simulatedBatches({ cluster: 'bench', nodes: Math.min(perSend, nodes - first), podsPerNode: pods, times: [t], nodePrefix: `n${first}` });
    points += batches.reduce((n, b) => n + b.points.length, 0);
    records += batches.length;
    await producer.send({
      topic,
      compression: CompressionTypes.GZIP,
      messages: batches.map((b) => ({ key: nodeKey(String(b.points[0]!.tags.nodename)), value: metricPointBatchCodec.encode(b), headers: metricPointBatchCodec.headers() })),
    });
  }
}
await producer.disconnect();
process.stderr.write(`produced ${records} records, ${points} points in ${((Date.now() - produceStarted) / 1000).toFixed(1)} s\n`);

// Like production: the esbuild bundle of main.ts (project.json `build`), not tsx.
const bundle = '/tmp/heapstream-bench/storage-writer/main.mjs';
await build({ entryPoints: ['services/storage-writer/src/main.ts'], bundle: true, platform: 'node', format: 'esm', target: 'node24', packages: 'external', outfile: bundle, logLevel: 'warning', alias: aliases() });
const profile = process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
const child = spawn(process.execPath, [...profile, bundle], { env: { ...process.env, ...setup.env, NODE_PATH: `${process.cwd()}/node_modules` }, stdio: ['ignore', 'ignore', 'inherit'] });
const joined = async () => {
  try {
    const r = (await (await fetch(`http://127.0.0.1:${port}/readyz`)).json()) as { checks: Record<string, { ok: boolean }> };
    return r.checks['kafka-consumer']?.ok === true;
  } catch {
    return false;
  }
};
while (!(await joined())) await new Promise((r) => setTimeout(r, 100));
const influx = influxPid();
const start = { at: performance.now(), ...procStats(child.pid!) };
const influxStart = influx ? procStats(influx) : undefined;
let influxRssPeak = 0;
let lastLag = Infinity;
const memPeak: Record<string, number> = {};
const sampleMemory = async () => {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text().catch(() => '');
  for (const name of ['nodejs_heap_size_used_bytes', 'nodejs_heap_size_total_bytes', 'nodejs_external_memory_bytes']) {
    const m = new RegExp(`^heapstream_process_${name}\\{[^}]*\\} ([\\d.e+]+)`, 'm').exec(text);
    if (m) memPeak[name] = Math.max(memPeak[name] ?? 0, Number(m[1]) / 2 ** 20);
  }
};
while (lastLag > 0) {
  await new Promise((r) => setTimeout(r, 500));
  await sampleMemory();
  if (influx) influxRssPeak = Math.max(influxRssPeak, procStats(influx).rssMiB);
  const lag = await consumerLag(kafka, setup.group, [topic]);
  lastLag = lag.length ? lag.reduce((n, l) => n + l.lag, 0) : Infinity;
}
const end = { at: performance.now(), ...procStats(child.pid!) };
const influxEnd = influx ? procStats(influx) : undefined;
const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
const lines = [...metrics.matchAll(/^heapstream_influx_lines_written_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
const sumOf = (name: string) => [...metrics.matchAll(new RegExp(`^${name}\\{[^}]*outcome="ok"[^}]*\\} ([\\d.e+-]+)`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
const writeSeconds = sumOf('heapstream_influx_write_duration_seconds_sum');
const requests = [...metrics.matchAll(/^heapstream_influx_write_requests_total\{[^}]*\} (\d+)/gm)].reduce((n, m) => n + Number(m[1]), 0);
child.kill('SIGTERM');
await new Promise((r) => child.once('exit', r));

const stored = Number((await influxQl('SELECT count(value) FROM "raw"."cpu/usage_rate"', setup.db).catch(() => []))[0]?.values?.[0]?.[1] ?? NaN);
const seconds = (end.at - start.at) / 1000;
const cpu = end.cpuSeconds - start.cpuSeconds;
const row = {
  schema: args.schema,
  nodes,
  podsPerNode: pods,
  rounds,
  records,
  values: points,
  lines,
  requests,
  seconds: +seconds.toFixed(1),
  'lines/s': Math.round(lines / seconds),
  'values/s': Math.round(points / seconds),
  'cpu-s': +cpu.toFixed(2),
  'cpu-s per 1M values': +((cpu / points) * 1e6).toFixed(2),
  'write s (InfluxDB)': +writeSeconds.toFixed(1),
  'RSS at join MiB': Math.round(start.peakRssMiB),
  'peak RSS MiB': Math.round(end.peakRssMiB),
  'heap used/total/external MiB (max of 0.5 s samples)': Object.values(memPeak).map(Math.round).join('/'),
  'cpu/usage_rate points stored': stored,
  'InfluxDB cpu-s': influxStart && influxEnd ? +(influxEnd.cpuSeconds - influxStart.cpuSeconds).toFixed(2) : 'n/a',
  'InfluxDB cpu-s per 1M values': influxStart && influxEnd ? +(((influxEnd.cpuSeconds - influxStart.cpuSeconds) / points) * 1e6).toFixed(2) : 'n/a',
  'InfluxDB RSS max MiB (0.5 s samples)': influx ? Math.round(influxRssPeak) : 'n/a',
};
console.table([row]);
if (!args.keep) await dropDatabase(setup.db);
