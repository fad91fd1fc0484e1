import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { waitFor } from './processes.js';

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

/** The pipeline's services, in start order; shutdown goes upstream first (the same order). */
export const SERVICE_NAMES = ['scraper', 'event-watcher', 'aggregator', 'storage-writer'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ServiceProcessSpec {
  name: string;
  /** Entry file relative to the repository root: `.ts` runs with Node 24 and tsx, `.js` (a bundle) with plain Node 24. */
  entry: string;
  args?: string[];
  /** Node flags before the entry, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  env: Record<string, string>;
  /** The service's HTTP port (/healthz, /readyz, /metrics). */
  port: number;
}

/**
 * How the image runs its programs, from deploy/docker/entrypoint.sh (the one place it is
 * written): the Node flags (the first `node_flags="..."`, with `$app/dist` = `bundleDir`)
 * and the environment it exports (`export NAME=value` lines). The entrypoint appends
 * `HEAPSTREAM_NODE_FLAGS` to the flags; `start` does the same.
 */
export function imageRuntime(bundleDir: string): { flags: string[]; env: Record<string, string> } {
  const script = readFileSync(join(repoRoot, 'deploy/docker/entrypoint.sh'), 'utf8');
  const flags = /^node_flags="([^"$]*(?:\$app\/dist[^"$]*)*)"$/m.exec(script)?.[1];
  if (flags === undefined) throw new Error('deploy/docker/entrypoint.sh has no node_flags="..." line');
  return {
    flags: words(flags.replaceAll('$app/dist', bundleDir)),
    env: Object.fromEntries([...script.matchAll(/^export ([A-Z_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!])),
  };
}

const words = (text: string): string[] => text.split(/\s+/).filter(Boolean);

interface Running {
  spec: ServiceProcessSpec;
  child: ChildProcess;
  exited: Promise<number | null>;
}

/**
 * Runs services as child processes with their own logs, and lets tests and
 * `heapstream up` kill, restart and stop them. Each child runs the same entry point
 * a container runs.
 */
export class ProcessGroup {
  private readonly running = new Map<string, Running>();

  constructor(private readonly logDir: string) {
    mkdirSync(logDir, { recursive: true });
  }

  start(spec: ServiceProcessSpec): void {
    if (this.isAlive(spec.name)) throw new Error(`${spec.name} is already running`);
    const log = createWriteStream(join(this.logDir, `${spec.name}.log`), { flags: 'a' });
    const node = join(repoRoot, 'node_modules', '.bin', 'node');
    const entry = resolve(repoRoot, spec.entry);
    // A bundle runs as in the image (<dist>/services/<name>/main.js); sources run under tsx.
    const image = entry.endsWith('.ts') ? undefined : imageRuntime(dirname(dirname(dirname(entry))));
    const flags = image
      ? [...image.flags, ...words(spec.env.HEAPSTREAM_NODE_FLAGS ?? process.env.HEAPSTREAM_NODE_FLAGS ?? ''), ...(spec.nodeArgs ?? [])]
      : ['--disable-warning=TimeoutNegativeWarning', ...(spec.nodeArgs ?? []), '--import', pathToFileURL(join(repoRoot, 'node_modules/tsx/dist/loader.mjs')).href];
    const child = spawn(node, [...flags, entry, ...(spec.args ?? [])], {
      cwd: repoRoot,
      env: { ...process.env, ...image?.env, TSX_TSCONFIG_PATH: join(repoRoot, 'tsconfig.json'), HEAPSTREAM_HTTP_HOST: '127.0.0.1', HEAPSTREAM_HTTP_PORT: String(spec.port), ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    this.running.set(spec.name, { spec, child, exited });
  }

  /** The process id of a running service (for CPU and memory sampling). */
  pid(name: string): number | undefined {
    return this.isAlive(name) ? this.running.get(name)?.child.pid : undefined;
  }

  url(name: string): string {
    const r = this.running.get(name);
    if (!r) throw new Error(`${name} was never started`);
    return `http://127.0.0.1:${r.spec.port}`;
  }

  /** Whether `name` was started (it may have exited since). */
  has(name: string): boolean {
    return this.running.has(name);
  }

  isAlive(name: string): boolean {
    const r = this.running.get(name);
    return !!r && r.child.exitCode === null && r.child.signalCode === null;
  }

  async waitHealthy(name: string, timeoutMs = 60_000): Promise<void> {
    await waitFor(`${name} /healthz`, async () => (await fetch(`${this.url(name)}/healthz`)).ok, { timeoutMs, alive: () => this.isAlive(name) });
  }

  async waitReady(name: string, timeoutMs = 60_000): Promise<void> {
    await waitFor(`${name} /readyz`, async () => (await fetch(`${this.url(name)}/readyz`)).ok, { timeoutMs, alive: () => this.isAlive(name) });
  }

  /** SIGKILL: no shutdown hooks, nothing flushed — a crash. */
  async kill(name: string): Promise<void> {
    const r = this.running.get(name);
    if (!r || !this.isAlive(name)) return;
    r.child.kill('SIGKILL');
    await r.exited;
  }

  /** SIGTERM and wait for the graceful shutdown, then SIGKILL after the grace period. */
  async stop(name: string, graceMs = 30_000): Promise<number | null> {
    const r = this.running.get(name);
    if (!r || !this.isAlive(name)) return r?.child.exitCode ?? null;
    r.child.kill('SIGTERM');
    const timer = setTimeout(() => r.child.kill('SIGKILL'), graceMs);
    const code = await r.exited;
    clearTimeout(timer);
    return code;
  }

  /** SIGKILL, then start it again with the same command and environment: a crash and a restart. */
  async crash(name: string): Promise<void> {
    const r = this.running.get(name);
    if (!r) throw new Error(`${name} was never started`);
    await this.kill(name);
    this.start(r.spec);
  }

  async restart(name: string): Promise<void> {
    const r = this.running.get(name);
    if (!r) throw new Error(`${name} was never started`);
    await this.stop(name);
    this.start(r.spec);
  }

  /** Stops everything in start order: intake (scraper, watcher) before the writers flush. */
  async stopAll(order: readonly string[] = [...this.running.keys()]): Promise<void> {
    for (const name of order) await this.stop(name);
  }
}
