import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { host, infraScriptsDir, stateDir } from './layout.js';
import { isRunning, killRecorded, portIsFree, readRecord, startDetached, stopRecorded, waitFor } from './processes.js';
import { influxdbSpec, kubeApiserverSpec, servers, writeKubeconfig, type ServerSpec } from './servers.js';

export type Progress = (line: string) => void;

export class InfraError extends Error {}

/** Builds or downloads what is missing (cached and version-checked by provision.sh). */
export function provision(components: string[], progress: Progress): void {
  progress(`provisioning ${components.join(', ')} (cached after the first run)`);
  const result = spawnSync('bash', [join(infraScriptsDir, 'provision.sh'), ...components], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) throw new InfraError(`provisioning failed (exit ${result.status}); the lines above say what and how to fix it`);
}

/** Servers started for one test alone (fault tests stop and restart them without disturbing others). */
const privateServers = new Map<string, ServerSpec>();

function selected(names?: string[]): ServerSpec[] {
  if (!names?.length) return servers;
  const own = names.map((n) => privateServers.get(n)).filter((s): s is ServerSpec => s !== undefined);
  if (own.length === names.length) return own;
  const unknown = names.filter((n) => !servers.some((s) => s.name === n));
  if (unknown.length) throw new InfraError(`unknown server ${unknown.join(', ')} (known: ${servers.map((s) => s.name).join(', ')})`);
  return servers.filter((s) => names.includes(s.name));
}

/** Endpoints of every server, as the KEY=value lines that tests and services read. */
export function endpoints(): Record<string, string> {
  return Object.assign({ HEAPSTREAM_STATE: stateDir }, ...servers.map((s) => s.endpoints(stateDir)));
}

async function startOne(spec: ServerSpec, progress: Progress): Promise<void> {
  if (isRunning(readRecord(stateDir, spec.name))) {
    progress(`${spec.name}: already running`);
    return;
  }
  for (const port of spec.ports) {
    if (!(await portIsFree(port, host))) {
      throw new InfraError(`${spec.name}: port ${host}:${port} is already in use by another process; stop it (ss -ltnp 'sport = :${port}') and run again`);
    }
  }
  const dataDir = join(stateDir, spec.name);
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true });
  const { command, args, env } = spec.command(dataDir);
  const record = startDetached({ stateDir, name: spec.name, command, args, env, logFile: join(dataDir, 'server.log'), marker: dataDir });
  const started = Date.now();
  try {
    await waitFor(spec.name, () => spec.ready(), { timeoutMs: 120_000, alive: () => !record.exited() });
  } catch (err) {
    await stopRecorded(stateDir, spec.name);
    throw new InfraError(`${(err as Error).message}; its log is ${join(dataDir, 'server.log')}`);
  }
  progress(`${spec.name}: ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * Provisions and starts the servers; a second call while they run is a no-op.
 * On failure, stops what this call started so nothing is left half-up.
 */
export async function up(opts: { progress: Progress; only?: string[]; provision?: boolean }): Promise<Record<string, string>> {
  const specs = selected(opts.only);
  if (opts.provision !== false) provision([...new Set(specs.map((s) => s.component))], opts.progress);
  mkdirSync(stateDir, { recursive: true });
  const startedNow: ServerSpec[] = [];
  try {
    for (const spec of specs) {
      const wasRunning = isRunning(readRecord(stateDir, spec.name));
      await startOne(spec, opts.progress);
      if (!wasRunning) startedNow.push(spec);
    }
  } catch (err) {
    for (const spec of startedNow.reverse()) await stopRecorded(stateDir, spec.name);
    throw err;
  }
  if (specs.some((s) => s.name === 'kube-apiserver')) writeKubeconfig(join(stateDir, 'kubeconfig'));
  const env = endpoints();
  writeFileSync(join(stateDir, 'env'), Object.entries(env).map(([k, val]) => `${k}=${val}`).join('\n') + '\n');
  return env;
}

export async function down(opts: { progress: Progress; only?: string[] }): Promise<void> {
  for (const spec of [...selected(opts.only)].reverse()) {
    if (await stopRecorded(stateDir, spec.name)) opts.progress(`${spec.name}: stopped`);
  }
}

export interface ServerStatus {
  name: string;
  running: boolean;
  ready: boolean;
  pid?: number;
}

export async function status(): Promise<ServerStatus[]> {
  return Promise.all(
    servers.map(async (spec) => {
      const record = readRecord(stateDir, spec.name);
      const running = isRunning(record);
      const ready = running && (await spec.ready().catch(() => false));
      return { name: spec.name, running, ready, ...(running ? { pid: record.pid } : {}) };
    }),
  );
}

/** For fault tests: stop, kill or restart one server while keeping its data. */
export async function stopServer(name: string, how: 'term' | 'kill' = 'term'): Promise<void> {
  selected([name]);
  if (how === 'kill') await killRecorded(stateDir, name);
  else await stopRecorded(stateDir, name);
}

/**
 * Starts an InfluxDB of its own for one test, on the given ports, with a fresh data dir.
 * stopServer/restartServer/down accept its name; stop it with stopServer when done.
 */
export async function startPrivateInflux(label: string, httpPort: number): Promise<{ name: string; url: string }> {
  const spec = influxdbSpec(`influxdb-${label}`, httpPort, httpPort + 1);
  privateServers.set(spec.name, spec);
  mkdirSync(stateDir, { recursive: true });
  await startOne(spec, () => undefined);
  return { name: spec.name, url: spec.endpoints(stateDir).INFLUX_URL! };
}

/**
 * Starts a kube-apiserver of its own for one test (a separate cluster in the shared etcd),
 * for tests that restart the API server. Stop it with stopServer when done.
 */
export async function startPrivateKubeApiserver(label: string, port: number): Promise<{ name: string; kubeconfig: string }> {
  const name = `kube-apiserver-${label}`;
  const spec = kubeApiserverSpec(name, port, `/registry-${label}`);
  privateServers.set(name, spec);
  mkdirSync(stateDir, { recursive: true });
  await startOne(spec, () => undefined);
  const kubeconfig = join(stateDir, name, 'kubeconfig');
  writeKubeconfig(kubeconfig, port);
  return { name, kubeconfig };
}

export async function restartServer(name: string): Promise<void> {
  const [spec] = selected([name]);
  if (!spec) return;
  await stopRecorded(stateDir, name);
  const dataDir = join(stateDir, spec.name);
  // Reuse the existing data dir: a restart keeps the server's state (Kafka's format step skips a formatted dir).
  const { command, args, env } = spec.command(dataDir);
  const record = startDetached({ stateDir, name, command, args, env, logFile: join(dataDir, 'server.log'), marker: dataDir });
  await waitFor(name, () => spec.ready(), { timeoutMs: 120_000, alive: () => !record.exited() });
}
