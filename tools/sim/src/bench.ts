import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request, Agent } from 'node:https';
import { createSecureContext } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { processStats, quantile } from '@heapstream/observability';

/**
 * Benchmark: a simulator child process serving N nodes × P pods, scraped every
 * `scrapeInterval` by a loopback client in this process (one keep-alive connection
 * per node, requests spread evenly). Prints the simulator's CPU-seconds and peak RSS
 * (from /proc), fds, and scrape latencies. Not a test: run it by hand.
 *
 *   tsx tools/sim/src/bench-main.ts --nodes 5000 --pods-per-node 30 --rounds 4
 */

export interface BenchOptions {
  nodes: number;
  podsPerNode: number;
  containersPerPod: string;
  scrapeIntervalMs: number;
  rounds: number;
  addressOctet: number;
  path: string;
}

/** The simulator's /proc figures; open fds as `fds`. */
function procStat(pid: number) {
  const s = processStats(pid);
  return { ...s, fds: s.openFds };
}

const mib = (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`;

export async function runBench(o: BenchOptions, log: (line: string) => void = console.log): Promise<void> {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  const tsx = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
  const outDir = `/tmp/heapstream-sim-bench-${process.pid}`;
  const child = spawn(
    tsx,
    [
      main,
      '--no-register',
      '--nodes', String(o.nodes),
      '--pods-per-node', String(o.podsPerNode),
      '--containers-per-pod', o.containersPerPod,
      '--address-octet', String(o.addressOctet),
      '--name-prefix', 'bench',
      '--out-dir', outDir,
      '--token', 'bench-token-0123456789',
      '--control-port', '0',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=4096` } },
  );
  const startedAt = Date.now();
  const ready = await new Promise<{ first: string; caFile: string; control: string }>((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => l.includes('"ready":true'));
      if (line) resolve(JSON.parse(line));
    });
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)));
  });
  // The tsx wrapper execs node as a child; measure the process that listens (the deepest descendant).
  const pid = findServerPid(child.pid!);
  const atReady = procStat(pid);
  log(`simulator pid ${pid} ready in ${((Date.now() - startedAt) / 1000).toFixed(1)} s: cpu ${atReady.cpuSeconds.toFixed(1)} s, rss ${mib(atReady.rssBytes)}, fds ${atReady.fds}`);

  const ca = readFileSync(ready.caFile, 'utf8');
  // One client TLS context for all connections: passing `ca` instead builds one per connection.
  const agent = new Agent({ keepAlive: true, maxSockets: 1, secureContext: createSecureContext({ ca }), maxCachedSessions: o.nodes });
  const urls = Array.from({ length: o.nodes }, (_, i) => `https://127.${o.addressOctet}.${Math.floor(i / 250)}.${(i % 250) + 1}:10250${o.path}`);
  const latencies: number[] = [];
  let bytes = 0;
  let errors = 0;
  const errorKinds = new Map<string, number>();
  const fail = (kind: string) => {
    errors++;
    errorKinds.set(kind, (errorKinds.get(kind) ?? 0) + 1);
  };
  const scrape = (url: string, retried = false): Promise<void> =>
    new Promise<void>((resolve) => {
      const t0 = performance.now();
      const req = request(url, { agent, headers: { authorization: 'Bearer bench-token-0123456789' }, timeout: 300_000 }, (res) => {
        res.on('data', (c: Buffer) => (bytes += c.length));
        res.on('end', () => {
          if (res.statusCode !== 200) fail(`http ${res.statusCode}`);
          latencies.push(performance.now() - t0);
          resolve();
        });
        res.on('error', (err) => {
          fail(err.message);
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', (err: NodeJS.ErrnoException) => {
        // A kept-alive connection the server closed as idle just as we reused it: retry once on a new one.
        if (req.reusedSocket && err.code === 'ECONNRESET' && !retried) {
          void scrape(url, true).then(resolve);
          return;
        }
        fail(err.code ?? err.message);
        resolve();
      });
      req.end();
    });

  const gapMs = o.scrapeIntervalMs / o.nodes;
  let before = procStat(pid);
  let peakFds = before.fds;
  for (let round = 1; round <= o.rounds; round++) {
    latencies.length = 0;
    bytes = 0;
    errors = 0;
    errorKinds.clear();
    const roundStart = performance.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < o.nodes; i++) {
      const due = roundStart + i * gapMs;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      inflight.push(scrape(urls[i]!));
    }
    await Promise.all(inflight);
    const rest = roundStart + o.scrapeIntervalMs - performance.now();
    if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    const after = procStat(pid);
    const mem = ((await (await fetch(`${ready.control}/healthz`)).json()) as { memory: NodeJS.MemoryUsage }).memory;
    peakFds = Math.max(peakFds, after.fds);
    latencies.sort((a, b) => a - b);
    const cpu = after.cpuSeconds - before.cpuSeconds;
    const wall = (performance.now() - roundStart) / 1000;
    log(
      `round ${round}: ${latencies.length} scrapes in ${wall.toFixed(1)} s, ${errors} errors${errors ? ` ${JSON.stringify(Object.fromEntries(errorKinds))}` : ''}, ${mib(bytes)} body; ` +
        `latency p50 ${quantile(latencies, 0.5).toFixed(1)} ms p99 ${quantile(latencies, 0.99).toFixed(1)} ms max ${quantile(latencies, 1).toFixed(0)} ms; ` +
        `simulator cpu ${cpu.toFixed(1)} s (${((100 * cpu) / wall).toFixed(0)}% of a core), rss ${mib(after.rssBytes)} (heap ${mib(mem.heapUsed)}/${mib(mem.heapTotal)}, external ${mib(mem.external)}), fds ${after.fds}`,
    );
    before = after;
  }
  const end = procStat(pid);
  log(`total: simulator cpu ${end.cpuSeconds.toFixed(1)} s since start, peak rss ${mib(end.peakRssBytes)}, peak fds ${peakFds}`);
  agent.destroy();
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
}

function findServerPid(rootPid: number): number {
  let pid = rootPid;
  for (;;) {
    let children: string[] = [];
    try {
      children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    } catch {
      return pid;
    }
    if (children.length === 0) return pid;
    pid = Number(children[0]);
  }
}
