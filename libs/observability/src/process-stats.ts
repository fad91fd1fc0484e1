import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessStats {
  /** user + system CPU time consumed so far */
  cpuSeconds: number;
  rssBytes: number;
  /** peak resident set size (VmHWM) */
  peakRssBytes: number;
  openFds: number;
}

/** Linux /proc figures of any process, for benchmarks that measure a peer process too. */
export function processStats(pid: number = process.pid): ProcessStats {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticksPerSecond = 100; // sysconf(_SC_CLK_TCK) on Linux
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  let openFds = -1;
  try {
    openFds = readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    // another user's process
  }
  return { cpuSeconds: (Number(fields[11]) + Number(fields[12])) / ticksPerSecond, rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM'), openFds };
}

/** The q-quantile (0..1) of values, by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
