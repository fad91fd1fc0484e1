import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProcessRecord {
  pid: number;
  /** A string that must appear in /proc/<pid>/cmdline, so a recycled PID is never killed. */
  marker: string;
}

const pidFile = (stateDir: string, name: string) => join(stateDir, `${name}.pid`);

export function readRecord(stateDir: string, name: string): ProcessRecord | undefined {
  const file = pidFile(stateDir, name);
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ProcessRecord;
  } catch {
    return undefined;
  }
}

export function isRunning(record: ProcessRecord | undefined): record is ProcessRecord {
  if (!record) return false;
  try {
    const cmdline = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8');
    return cmdline.includes(record.marker);
  } catch {
    return false;
  }
}

/** Starts a long-lived server detached from this process, its output in logFile. */
export function startDetached(opts: {
  stateDir: string;
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  logFile: string;
  marker: string;
}): ProcessRecord & { exited: () => boolean } {
  const out = openSync(opts.logFile, 'a');
  const child = spawn(opts.command, opts.args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: { ...process.env, ...opts.env },
    cwd: opts.cwd,
  });
  closeSync(out);
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', () => (exited = true));
  child.unref();
  if (child.pid === undefined) throw new Error(`${opts.name}: could not start ${opts.command}`);
  const record = { pid: child.pid, marker: opts.marker };
  writeFileSync(pidFile(opts.stateDir, opts.name), JSON.stringify(record));
  // Right after spawn the child may not have exec'd yet, so /proc cmdline cannot tell; the exit event can.
  return { ...record, exited: () => exited };
}

/** TERM, then KILL after the grace period. Safe to call when nothing runs. */
export async function stopRecorded(stateDir: string, name: string, graceMs = 15_000): Promise<boolean> {
  const record = readRecord(stateDir, name);
  let stopped = false;
  if (isRunning(record)) {
    process.kill(record.pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isRunning(record) && Date.now() < deadline) await sleep(100);
    if (isRunning(record)) process.kill(record.pid, 'SIGKILL');
    while (isRunning(record)) await sleep(50);
    stopped = true;
  }
  rmSync(pidFile(stateDir, name), { force: true });
  return stopped;
}

/** Immediate SIGKILL, for crash tests. */
export async function killRecorded(stateDir: string, name: string): Promise<void> {
  const record = readRecord(stateDir, name);
  if (!isRunning(record)) return;
  process.kill(record.pid, 'SIGKILL');
  while (isRunning(record)) await sleep(50);
}

export async function portIsFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** Polls `check` until it returns true or the deadline passes; never sleeps a guess. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  opts: { timeoutMs: number; intervalMs?: number; alive?: () => boolean },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    if (opts.alive && !opts.alive()) throw new Error(`${what} exited before it became ready`);
    try {
      if (await check()) return;
    } catch {
      // not ready yet
    }
    if (Date.now() > deadline) throw new Error(`${what} did not become ready within ${opts.timeoutMs / 1000} s`);
    await sleep(opts.intervalMs ?? 250);
  }
}
