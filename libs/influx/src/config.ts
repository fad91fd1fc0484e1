import { z } from 'zod';

/** A retention duration in InfluxQL form: `7d`, `12h`, `30m`, `2w`, or `0`/`INF` for forever. */
const retention = (defaultValue: string) =>
  z
    .string()
    .default(defaultValue)
    .transform((v, ctx) => {
      const ms = parseInfluxDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: 'expected an InfluxQL duration like 7d, 12h, 2w, or 0/INF for infinite' });
        return z.NEVER;
      }
      if (ms !== 0 && ms < 3_600_000) {
        ctx.addIssue({ code: 'custom', message: 'InfluxDB refuses retention below 1h' });
        return z.NEVER;
      }
      return ms;
    });

/**
 * InfluxDB connection and layout. `INFLUX_DATABASE` selects the 1.x layout (one
 * database, one retention policy per tier, written through /api/v2/write as
 * `db/rp`); `INFLUX_BUCKET` selects the 2.x/3.x layout (one bucket per tier).
 */
export const influxConfigSchema = z
  .object({
    INFLUX_URL: z.url({ message: 'required: InfluxDB base URL, e.g. http://127.0.0.1:8086' }),
    INFLUX_TOKEN: z.string().default('').describe('2.x/3.x API token, or `user:password` for 1.x (empty when auth is off)'),
    INFLUX_ORG: z.string().default(''),
    INFLUX_DATABASE: z.string().min(1).optional().describe('1.x database (Heapster default: k8s)'),
    INFLUX_BUCKET: z.string().min(1).optional().describe('2.x/3.x bucket of the raw tier'),
    INFLUX_BUCKET_1M: z.string().min(1).optional(),
    INFLUX_BUCKET_1H: z.string().min(1).optional(),
    INFLUX_RP_RAW: z.string().min(1).default('raw'),
    INFLUX_RP_1M: z.string().min(1).default('rollup_1m'),
    INFLUX_RP_1H: z.string().min(1).default('rollup_1h'),
    INFLUX_RETENTION_RAW: retention('7d'),
    INFLUX_RETENTION_1M: retention('30d'),
    INFLUX_RETENTION_1H: retention('365d'),
    INFLUX_SETUP: z.enum(['true', 'false']).default('true').transform((v) => v === 'true').describe('create or correct the database and retention policies (1.x) or buckets (2.x) at start; false on 3.x'),
    INFLUX_GZIP: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
    INFLUX_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    INFLUX_BATCH_LINES: z.coerce.number().int().min(1).default(5_000),
    INFLUX_BATCH_BYTES: z.coerce.number().int().min(1024).default(4 * 1024 * 1024),
    INFLUX_RETRY_MAX_MS: z.coerce.number().int().min(100).default(30_000),
    INFLUX_WRITE_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2).describe('write requests in flight at once per writer'),
  })
  .transform((c, ctx) => {
    if (c.INFLUX_DATABASE && c.INFLUX_BUCKET) {
      ctx.addIssue({ code: 'custom', path: ['INFLUX_BUCKET'], message: 'set INFLUX_DATABASE (1.x db/rp) or INFLUX_BUCKET (2.x/3.x), not both' });
      return z.NEVER;
    }
    return { ...c, INFLUX_DATABASE: c.INFLUX_BUCKET ? undefined : (c.INFLUX_DATABASE ?? 'k8s') };
  });
export type InfluxConfig = z.infer<typeof influxConfigSchema>;

export const TIERS = ['raw', '1m', '1h'] as const;
export type Tier = (typeof TIERS)[number];

/** Where one tier is written. */
export interface TierTarget {
  tier: Tier;
  /** The `bucket` parameter of /api/v2/write: `db/rp` on 1.x, the bucket name on 2.x/3.x. */
  bucket: string;
  /** 1.x only. */
  database?: string;
  retentionPolicy?: string;
  retentionMs: number;
}

export function tierTargets(c: InfluxConfig): Record<Tier, TierTarget> {
  const ms = { raw: c.INFLUX_RETENTION_RAW, '1m': c.INFLUX_RETENTION_1M, '1h': c.INFLUX_RETENTION_1H };
  if (c.INFLUX_DATABASE) {
    const db = c.INFLUX_DATABASE;
    const rp = { raw: c.INFLUX_RP_RAW, '1m': c.INFLUX_RP_1M, '1h': c.INFLUX_RP_1H };
    const t = (tier: Tier): TierTarget => ({ tier, bucket: `${db}/${rp[tier]}`, database: db, retentionPolicy: rp[tier], retentionMs: ms[tier] });
    return { raw: t('raw'), '1m': t('1m'), '1h': t('1h') };
  }
  const raw = c.INFLUX_BUCKET!;
  const bucket = { raw, '1m': c.INFLUX_BUCKET_1M ?? `${raw}_1m`, '1h': c.INFLUX_BUCKET_1H ?? `${raw}_1h` };
  const t = (tier: Tier): TierTarget => ({ tier, bucket: bucket[tier], retentionMs: ms[tier] });
  return { raw: t('raw'), '1m': t('1m'), '1h': t('1h') };
}

const UNIT_MS: Record<string, number> = { ns: 1e-6, u: 1e-3, µ: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `7d`, `1h30m`, `168h0m0s` (what SHOW RETENTION POLICIES prints), `0`, `0s` or `INF`
 * -> milliseconds (0 = infinite); undefined when it is not a duration.
 */
export function parseInfluxDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0' || s.toUpperCase() === 'INF') return 0;
  const re = /(\d+)(ns|ms|u|µ|s|m|h|d|w)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = re.lastIndex;
  }
  return pos === s.length && pos > 0 ? Math.round(total) : undefined;
}

/** Milliseconds -> the shortest InfluxQL duration literal (`0s` for infinite). */
export function formatInfluxDuration(ms: number): string {
  if (ms === 0) return 'INF';
  for (const [unit, size] of [['w', 604_800_000], ['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
