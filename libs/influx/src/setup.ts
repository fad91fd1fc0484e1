import { formatInfluxDuration, parseInfluxDuration, type TierTarget } from './config.js';
import { influxQl, quoteIdent, type InfluxEndpoint } from './http.js';

export interface RetentionPolicyChange {
  database: string;
  retentionPolicy: string;
  action: 'created' | 'altered' | 'unchanged';
  /** What it was before an ALTER. */
  before?: { durationMs: number; isDefault: boolean };
  durationMs: number;
  isDefault: boolean;
}

/** InfluxDB's own default shard group duration for a retention duration. */
export function shardDurationFor(retentionMs: number): number {
  const h = 3_600_000;
  if (retentionMs === 0) return 168 * h;
  if (retentionMs < 2 * 24 * h) return h;
  if (retentionMs <= 180 * 24 * h) return 24 * h;
  return 168 * h;
}

interface ExistingPolicy {
  durationMs: number;
  shardMs: number;
  isDefault: boolean;
}

async function existingPolicies(ep: Pick<InfluxEndpoint, 'url' | 'token' | 'timeoutMs'>, database: string): Promise<Map<string, ExistingPolicy>> {
  const series = await influxQl(ep, `SHOW RETENTION POLICIES ON ${quoteIdent(database)}`);
  const out = new Map<string, ExistingPolicy>();
  for (const s of series) {
    const col = (name: string) => s.columns.indexOf(name);
    for (const row of s.values ?? []) {
      out.set(String(row[col('name')]), {
        durationMs: parseInfluxDuration(String(row[col('duration')])) ?? -1,
        shardMs: parseInfluxDuration(String(row[col('shardGroupDuration')])) ?? -1,
        isDefault: row[col('default')] === true,
      });
    }
  }
  return out;
}

/**
 * InfluxDB 1.x: the database and one retention policy per tier, with the configured
 * durations, created when missing and ALTERed when they exist with other settings
 * (Heapster created them once and never corrected them: #1579, #1843). The first
 * target (raw) is the database's DEFAULT policy, so queries without a policy read it.
 * Idempotent; run at every start and whenever a write answers 404.
 */
export async function ensureRetentionPolicies(ep: Pick<InfluxEndpoint, 'url' | 'token' | 'timeoutMs'>, targets: readonly TierTarget[]): Promise<RetentionPolicyChange[]> {
  const changes: RetentionPolicyChange[] = [];
  const byDb = new Map<string, TierTarget[]>();
  for (const t of targets) {
    if (!t.database || !t.retentionPolicy) continue;
    byDb.set(t.database, [...(byDb.get(t.database) ?? []), t]);
  }
  for (const [database, tiers] of byDb) {
    await influxQl(ep, `CREATE DATABASE ${quoteIdent(database)}`);
    const existing = await existingPolicies(ep, database);
    for (const [i, t] of tiers.entries()) {
      const rp = t.retentionPolicy!;
      const isDefault = i === 0;
      const shardMs = shardDurationFor(t.retentionMs);
      const spec = `DURATION ${formatInfluxDuration(t.retentionMs)} REPLICATION 1 SHARD DURATION ${formatInfluxDuration(shardMs)}${isDefault ? ' DEFAULT' : ''}`;
      const before = existing.get(rp);
      if (!before) {
        await influxQl(ep, `CREATE RETENTION POLICY ${quoteIdent(rp)} ON ${quoteIdent(database)} ${spec}`);
        changes.push({ database, retentionPolicy: rp, action: 'created', durationMs: t.retentionMs, isDefault });
      } else if (before.durationMs !== t.retentionMs || before.shardMs !== shardMs || (isDefault && !before.isDefault)) {
        await influxQl(ep, `ALTER RETENTION POLICY ${quoteIdent(rp)} ON ${quoteIdent(database)} ${spec}`);
        changes.push({ database, retentionPolicy: rp, action: 'altered', before: { durationMs: before.durationMs, isDefault: before.isDefault }, durationMs: t.retentionMs, isDefault });
      } else {
        changes.push({ database, retentionPolicy: rp, action: 'unchanged', durationMs: t.retentionMs, isDefault });
      }
    }
  }
  return changes;
}
