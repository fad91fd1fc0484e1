import { writeFileSync } from 'node:fs';
import type { Kafka } from 'kafkajs';
import { processStats, type ProcessStats } from '@heapstream/observability';
import { stateDir } from '../layout.js';
import { isRunning, readRecord } from '../processes.js';

/*
 * What the pipeline bench samples: a process's CPU and peak memory (/proc), InfluxDB's
 * own per-shard write statistics, consumer lag, and the simulator's ground truth.
 */

export type ProcSample = ProcessStats;

/** CPU-s used so far and the peak RSS (VmHWM) of a live process; undefined once it is gone. */
export function procSample(pid: number | undefined): ProcSample | undefined {
  if (pid === undefined) return undefined;
  try {
    return processStats(pid);
  } catch {
    return undefined;
  }
}

/**
 * Restarts a process's peak RSS (VmHWM) from its current RSS, so a long-lived server's
 * peak covers one run, not everything before it. Needs to own the process (or root).
 */
export function resetPeakRss(pid: number): void {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {
    // not ours to reset: the peak then includes earlier runs
  }
}

/** The pid of a local server `heapstream infra up` started (influxdb, kafka, ...). */
export function serverPid(name: string): number {
  const record = readRecord(stateDir, name);
  if (!isRunning(record)) throw new Error(`the local ${name} is not running (heapstream infra up)`);
  return record.pid;
}

export async function influxQuery(url: string, q: string, db?: string): Promise<InfluxSeries[]> {
  const params = new URLSearchParams({ q, epoch: 'ms', ...(db ? { db } : {}) });
  const res = await fetch(`${url}/query?${params}`, { method: 'POST' });
  if (!res.ok) throw new Error(`InfluxDB ${q}: HTTP ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { results?: { series?: InfluxSeries[]; error?: string }[] };
  const first = body.results?.[0];
  if (first?.error) throw new Error(`InfluxDB ${q}: ${first.error}`);
  return first?.series ?? [];
}

export interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** Per retention policy of one database: InfluxDB's shard statistics, summed over its shards. */
export interface ShardTotals {
  writeValuesOk: number;
  writePointsOk: number;
  seriesCreate: number;
  diskBytes: number;
}

export async function shardStats(url: string, database: string): Promise<Record<string, ShardTotals>> {
  const out: Record<string, ShardTotals> = {};
  for (const s of await influxQuery(url, `SHOW STATS FOR 'shard'`)) {
    if (s.tags?.database !== database) continue;
    const rp = s.tags.retentionPolicy ?? '?';
    const row = s.values[0] ?? [];
    const col = (name: string) => Number(row[s.columns.indexOf(name)] ?? 0) || 0;
    const t = (out[rp] ??= { writeValuesOk: 0, writePointsOk: 0, seriesCreate: 0, diskBytes: 0 });
    t.writeValuesOk += col('writeValuesOk');
    t.writePointsOk += col('writePointsOk');
    t.seriesCreate += col('seriesCreate');
    t.diskBytes += col('diskBytes');
  }
  return out;
}

export function sumShards(stats: Record<string, ShardTotals>): ShardTotals {
  const total = { writeValuesOk: 0, writePointsOk: 0, seriesCreate: 0, diskBytes: 0 };
  for (const t of Object.values(stats)) for (const k of Object.keys(total) as (keyof ShardTotals)[]) total[k] += t[k];
  return total;
}

/**
 * Records the consumer groups whose id starts with `prefix` have not committed yet,
 * summed over their partitions. A transactional producer leaves a commit marker after its
 * last record, which no consumer commits past: up to one record per partition is a marker.
 */
export async function groupLag(kafka: Kafka, prefix: string): Promise<{ lag: number; partitions: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const { groups } = await admin.listGroups();
    let lag = 0;
    let partitions = 0;
    const highs = new Map<string, Map<number, bigint>>();
    for (const g of groups.filter((g) => g.groupId.startsWith(prefix))) {
      for (const t of await admin.fetchOffsets({ groupId: g.groupId })) {
        let high = highs.get(t.topic);
        if (!high) highs.set(t.topic, (high = new Map((await admin.fetchTopicOffsets(t.topic)).map((p) => [p.partition, BigInt(p.high)]))));
        for (const p of t.partitions) {
          if (BigInt(p.offset) < 0n) continue;
          const behind = (high.get(p.partition) ?? 0n) - BigInt(p.offset);
          if (behind > 0n) lag += Number(behind);
          partitions++;
        }
      }
    }
    return { lag, partitions };
  } finally {
    await admin.disconnect();
  }
}

export interface ServedRecord {
  atMs: number;
  path: string;
  status: number;
  outcome: string;
  sampleMs?: number;
}

export interface SimNode {
  name: string;
  address: string;
  port: number;
}

export async function simNodes(controlUrl: string): Promise<SimNode[]> {
  return ((await (await fetch(`${controlUrl}/truth/nodes`)).json()) as { nodes: SimNode[] }).nodes;
}

export async function simServed(controlUrl: string, node: string): Promise<ServedRecord[]> {
  return ((await (await fetch(`${controlUrl}/truth/served?node=${encodeURIComponent(node)}`)).json()) as { records: ServedRecord[] }).records;
}

/** Summary answers the kubelets gave with status 200 inside [from, to). */
export const okSummaries = (served: ServedRecord[], from: number, to: number): ServedRecord[] =>
  served.filter((r) => r.path === '/stats/summary' && r.status === 200 && r.outcome === 'ok' && r.atMs >= from && r.atMs < to);

/** Each aligned round's duration: its last summary answer's time minus the round start. */
export function roundDurations(answers: ServedRecord[], from: number, intervalMs: number, rounds: number): number[] {
  const last = new Array<number>(rounds).fill(Number.NaN);
  for (const r of answers) {
    const i = Math.floor((r.atMs - from) / intervalMs);
    if (i >= 0 && i < rounds) last[i] = Number.isNaN(last[i]!) ? r.atMs : Math.max(last[i]!, r.atMs);
  }
  return last.map((t, i) => t - (from + i * intervalMs)).filter((d) => !Number.isNaN(d));
}

