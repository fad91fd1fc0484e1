/*
 * Micro-benchmark (not a test): the scraper's per-node CPU between the kubelet body
 * and the Kafka record, on one core, no network. For each input it times
 *   json    JSON.parse of the body alone (the floor the parser cannot go under),
 *   parse   parseSummary(body) -> RawScrape (JSON.parse included),
 *   encode  rawScrapeCodec.encode(scrape), what ScrapePublisher sends,
 *   gzip    gzip of the encoded record (KAFKA_COMPRESSION=gzip, zlib's default level 6),
 *   gzip1   the same at KAFKA_COMPRESSION_LEVEL=1, zstd: KAFKA_COMPRESSION=zstd (level 3),
 * in several rounds and prints the median ms/node of each (CPU time of this process).
 *
 * Inputs: the real kubelet fixtures (/work/shared/fixtures/kubelet, copies in
 * libs/metric-model/testdata) and `--nodes` simulated nodes of `--pods` pods from the
 * simulator's summary generator.
 *
 *   node --import tsx services/scraper/bench/parse-bench.ts [--pods 30] [--nodes 20] [--rounds 7] [--ms 400]
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx services/scraper/bench/parse-bench.ts --loop parse --seconds 10
 *   node --import tsx services/scraper/bench/parse-bench.ts --digest   # one hash of every output, to compare two builds
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { constants, gzipSync, zstdCompressSync } from 'node:zlib';
import { rawScrapeCodec } from '@heapstream/contracts';
import { parseSummary, ParseError } from '@heapstream/metric-model';
// The simulator is a bench-only input generator here; the scraper itself never imports it.
// eslint-disable-next-line @nx/enforce-module-boundaries
import { SimulatedCluster } from '@heapstream/sim';

const FIXTURES = ['otel-stats-summary', 'otel-stats-summary-second-scrape', 'telegraf-stats-summary'];
const fixtureDir = fileURLToPath(new URL('../../../libs/metric-model/testdata/', import.meta.url));
const EPOCH = Date.UTC(2026, 0, 1);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

interface Input {
  name: string;
  body: Buffer;
}

function simulatedBodies(nodes: number, pods: number, seed = 7): Input[] {
  const c = SimulatedCluster.create({ nodes, podsPerNode: pods, seed, namePrefix: 'bench' }, EPOCH);
  const at = EPOCH + 600_000;
  c.advanceTo(at);
  return c.nodes.map((n) => ({ name: n.spec.name, body: Buffer.from(JSON.stringify(c.summary(n, c.sampleTimeAt(n, at)))) }));
}

const fixtures = (): Input[] => FIXTURES.map((name) => ({ name, body: readFileSync(`${fixtureDir}${name}.json`) }));

const options = (name: string) => ({ cluster: 'bench', node: name, startedAt: EPOCH, finishedAt: EPOCH + 5 });

/** CPU ms per call of `fn` over `inputs`, run for at least `minMs` of CPU. */
function timeIt<T>(inputs: T[], minMs: number, fn: (x: T) => unknown): number {
  let calls = 0;
  const t0 = process.cpuUsage();
  let used = 0;
  do {
    for (const x of inputs) fn(x);
    calls += inputs.length;
    const d = process.cpuUsage(t0);
    used = (d.user + d.system) / 1000;
  } while (used < minMs);
  return used / calls;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function measure(label: string, inputs: Input[], rounds: number, minMs: number): void {
  const scrapes = inputs.map((i) => parseSummary(i.body, options(i.name)).scrape);
  const records = scrapes.map((s) => rawScrapeCodec.encode(s));
  const kb = inputs.reduce((a, i) => a + i.body.length, 0) / inputs.length / 1024;
  const recordKb = records.reduce((a, r) => a + r.length, 0) / records.length / 1024;
  const runs: Record<'json' | 'parse' | 'encode' | 'gzip' | 'gzip1' | 'zstd', number[]> = { json: [], parse: [], encode: [], gzip: [], gzip1: [], zstd: [] };
  for (let r = 0; r < rounds; r++) {
    runs.json.push(timeIt(inputs, minMs, (i) => JSON.parse(i.body.toString('utf8'))));
    runs.parse.push(timeIt(inputs, minMs, (i) => parseSummary(i.body, options(i.name))));
    runs.encode.push(timeIt(scrapes, minMs, (s) => rawScrapeCodec.encode(s)));
    runs.gzip.push(timeIt(records, minMs / 2, (b) => gzipSync(b)));
    runs.gzip1.push(timeIt(records, minMs / 2, (b) => gzipSync(b, { level: 1 })));
    runs.zstd.push(timeIt(records, minMs / 2, (b) => zstdCompressSync(b, { params: { [constants.ZSTD_c_compressionLevel]: constants.ZSTD_CLEVEL_DEFAULT } })));
  }
  const ratio = (pack: (b: Buffer) => Buffer) => (records.reduce((a, r) => a + r.length, 0) / records.reduce((a, r) => a + pack(r).length, 0)).toFixed(1);
  const fmt = (xs: number[]) => `${median(xs).toFixed(3)} (${Math.min(...xs).toFixed(3)}–${Math.max(...xs).toFixed(3)})`;
  console.log(`${label}: ${inputs.length} bodies, body ${kb.toFixed(1)} KiB, record ${recordKb.toFixed(1)} KiB; CPU ms/node, median (min–max) of ${rounds} rounds`);
  for (const [k, xs] of Object.entries(runs)) console.log(`  ${k.padEnd(7)} ${fmt(xs)}`);
  console.log(`  parse+encode ${(median(runs.parse) + median(runs.encode)).toFixed(3)}`);
  console.log(`  record size / compressed, per record: gzip ${ratio((b) => gzipSync(b))}×, gzip1 ${ratio((b) => gzipSync(b, { level: 1 }))}×, zstd ${ratio((b) => zstdCompressSync(b))}×`);
}

/** For --cpu-prof: only the chosen work, for a fixed time, so the profile is not diluted. */
function loop(what: string, inputs: Input[], seconds: number): void {
  const scrapes = inputs.map((i) => parseSummary(i.body, options(i.name)).scrape);
  const until = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < until) {
    for (let k = 0; k < inputs.length; k++) {
      if (what === 'parse' || what === 'all') {
        const s = parseSummary(inputs[k]!.body, options(inputs[k]!.name)).scrape;
        if (what === 'all') rawScrapeCodec.encode(s);
      } else rawScrapeCodec.encode(scrapes[k]!);
      n++;
    }
  }
  console.log(`${what}: ${n} nodes in ${seconds} s`);
}

/*
 * Every output (encoded record, issues, ParseError message) of the fixtures, the
 * simulated bodies and seeded corruptions of both, hashed: equal digests before and
 * after a parser change mean the change altered no output on this corpus.
 */
function digest(inputs: Input[]): void {
  // A timeless body gets the current time as its window; pin it so digests compare.
  Date.now = () => EPOCH;
  const hash = createHash('sha256');
  let cases = 0;
  const record = (body: string | object, name: string) => {
    cases++;
    try {
      const withTime = parseSummary(body, options(name));
      hash.update(rawScrapeCodec.encode(withTime.scrape));
      hash.update(JSON.stringify(withTime.issues));
      // Without given times, the window comes from the body, and node from nodeName.
      const bare = parseSummary(body, { cluster: 'bench', finishedAt: undefined });
      hash.update(JSON.stringify(bare.scrape) + JSON.stringify(bare.issues));
    } catch (err) {
      if (!(err instanceof ParseError)) throw err;
      hash.update(`ParseError ${err.message}`);
    }
  };
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const BAD: unknown[] = [null, '', 'x', '12', -1, 1.5, 2 ** 64, 2 ** 63, 2 ** 63 - 1024, 0, true, [], {}, [1], { a: 1 }, '0001-01-01T00:00:00Z', '1999-12-31T23:59:59Z', '2024-02-30T00:00:00Z', '2024-01-01T00:00:00.123456789+02:00', '2024-01-01 00:00:00', NaN];
  const corrupt = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map((x) => (rand() < 0.02 ? BAD[Math.floor(rand() * BAD.length)] : corrupt(x)));
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        const p = rand();
        if (p < 0.015) continue; // drop
        out[k] = p < 0.05 ? BAD[Math.floor(rand() * BAD.length)] : corrupt(x);
      }
      return out;
    }
    return v;
  };
  for (const i of inputs) {
    const text = i.body.toString('utf8');
    record(text, i.name);
    const parsed = JSON.parse(text) as unknown;
    for (let k = 0; k < 20; k++) record(corrupt(parsed), i.name);
    // Truncated and garbled bodies go through the salvage path.
    for (let k = 0; k < 4; k++) record(text.slice(0, Math.floor(rand() * text.length)), i.name);
    record(text.replace('"name"', '"name" ??? '), i.name);
  }
  for (const body of ['', 'hello', '[]', '42', '{"kind":"Status"}', '{"node":{}}', '{"node":null,"pods":[]}', '{"node":{"nodeName":"n"},"pods":[null,1,{"podRef":{}}]}']) record(body, 'x');
  console.log(`digest of ${cases} cases: ${hash.digest('hex')}`);
}

const pods = Number(arg('pods', '30'));
const sim = simulatedBodies(Number(arg('nodes', '20')), pods);
if (flag('digest')) {
  digest([...fixtures(), ...sim.slice(0, 8), ...simulatedBodies(4, 3, 99)]);
} else if (process.argv.includes('--loop')) {
  loop(arg('loop', 'parse'), sim, Number(arg('seconds', '10')));
} else {
  const rounds = Number(arg('rounds', '7'));
  const minMs = Number(arg('ms', '400'));
  measure('kubelet fixtures', fixtures(), rounds, minMs);
  measure(`simulated, ${pods} pods/node`, sim, rounds, minMs);
}
