import { z } from 'zod';

/**
 * Simulator options: one zod schema, defaults in one place. Bad input fails at start
 * with the option's flag name (`--pods-per-node: ...`).
 */

export type LatencyDistribution =
  | { kind: 'none' }
  | { kind: 'const'; ms: number }
  | { kind: 'uniform'; minMs: number; maxMs: number }
  | { kind: 'normal'; meanMs: number; stddevMs: number }
  | { kind: 'lognormal'; medianMs: number; p99Ms: number }
  | { kind: 'exp'; meanMs: number };

export const ERROR_KINDS = ['5xx', 'reset', 'truncated', 'invalid'] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];
export const OUTAGE_MODES = ['refuse', 'hang'] as const;
export type OutageMode = (typeof OUTAGE_MODES)[number];

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "250ms", "10s", "2m", "1h", "1.5s"; a bare number is milliseconds. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new Error(`expected a duration ≥ 0, got ${input}`);
    return input;
  }
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*$/.exec(input);
  if (!m) throw new Error(`expected a duration like 250ms, 10s, 2m or 1h, got '${input}'`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 'ms']!);
}

/** "0", "50ms", "const:50ms", "uniform:10ms..200ms", "normal:50ms,10ms", "lognormal:50ms,800ms" (median,p99), "exp:40ms". */
export function parseLatency(input: string | number | LatencyDistribution): LatencyDistribution {
  if (typeof input === 'object') return input;
  if (typeof input === 'number' || !input.includes(':')) {
    const ms = parseDuration(input);
    return ms === 0 ? { kind: 'none' } : { kind: 'const', ms };
  }
  const [kind, rest = ''] = input.split(':', 2) as [string, string];
  const two = (sep: string) => {
    const parts = rest.split(sep);
    if (parts.length !== 2) throw new Error(`expected ${kind}:<a>${sep}<b>, got '${input}'`);
    return parts.map((p) => parseDuration(p)) as [number, number];
  };
  switch (kind) {
    case 'const':
      return { kind: 'const', ms: parseDuration(rest) };
    case 'uniform': {
      const [minMs, maxMs] = two('..');
      if (maxMs < minMs) throw new Error(`uniform range is reversed in '${input}'`);
      return { kind: 'uniform', minMs, maxMs };
    }
    case 'normal': {
      const [meanMs, stddevMs] = two(',');
      return { kind: 'normal', meanMs, stddevMs };
    }
    case 'lognormal': {
      const [medianMs, p99Ms] = two(',');
      if (medianMs <= 0 || p99Ms < medianMs) throw new Error(`lognormal needs 0 < median ≤ p99 in '${input}'`);
      return { kind: 'lognormal', medianMs, p99Ms };
    }
    case 'exp':
      return { kind: 'exp', meanMs: parseDuration(rest) };
    default:
      throw new Error(`unknown distribution '${kind}' (const, uniform, normal, lognormal, exp)`);
  }
}

function withParser<T>(parse: (v: string | number) => T) {
  return z.union([z.string(), z.number()]).transform((value, ctx) => {
    try {
      return parse(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message });
      return z.NEVER;
    }
  });
}

const duration = withParser(parseDuration);
const int = (min: number, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
const rate = z.coerce.number().min(0);
const fraction = z.coerce.number().min(0).max(1);
const dnsLabel = z.string().regex(/^[a-z0-9]([-a-z0-9]{0,28}[a-z0-9])?$/, 'must be a lowercase DNS label of at most 30 characters');

const containersPerPod = withParser((v) => {
  const s = String(v);
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new Error(`expected N or MIN-MAX, got '${s}'`);
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  if (min < 1 || max < min || max > 20) throw new Error(`expected 1 ≤ MIN ≤ MAX ≤ 20, got '${s}'`);
  return { min, max };
});

const skew = withParser((v) => {
  const m = /^(\d+)=([+-]?)(.+)$/.exec(String(v));
  if (!m) throw new Error(`expected NODE_INDEX=±DURATION like 2=+90s, got '${v}'`);
  const ms = parseDuration(m[3]!);
  return { nodeIndex: Number(m[1]), skewMs: m[2] === '-' ? -ms : ms };
});

export const simOptionsSchema = z
  .object({
    seed: int(0, 0xffffffff).default(1),
    nodes: int(1, 64_000).default(3),
    podsPerNode: int(0, 250).default(10),
    containersPerPod: containersPerPod.prefault('1-3'),
    interval: duration.prefault('10s'),
    churn: rate.default(0),
    restartRate: rate.default(0),
    slowFraction: fraction.default(0),
    slowLatency: withParser(parseLatency).prefault('lognormal:2s,8s'),
    latency: withParser(parseLatency).prefault('0'),
    errorRate: fraction.default(0),
    errorKinds: z
      .union([z.string(), z.array(z.enum(ERROR_KINDS))])
      .transform((v, ctx) => {
        const list = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v;
        for (const k of list) {
          if (!(ERROR_KINDS as readonly string[]).includes(k)) {
            ctx.addIssue({ code: 'custom', message: `unknown error kind '${k}' (${ERROR_KINDS.join(', ')})` });
            return z.NEVER;
          }
        }
        return list as ErrorKind[];
      })
      .prefault([...ERROR_KINDS]),
    outagesPerHour: rate.default(0),
    outageDuration: duration.prefault('60s'),
    outageMode: z.enum(OUTAGE_MODES).default('refuse'),
    clockSkew: z.array(skew).prefault([]),
    eventsPerSecond: rate.default(0),
    namePrefix: dnsLabel.default('sim'),
    addressOctet: int(1, 254).default(77),
    kubeletPort: int(0, 65535).default(10250),
    tokens: z.array(z.string().min(8, 'tokens must have at least 8 characters')).default([]),
    tokenFile: z.string().optional(),
    outDir: z.string().optional(),
    controlPort: int(0, 65535).optional(),
    kubeconfig: z.string().optional(),
    register: z.boolean().default(true),
    nodeStatusInterval: duration.prefault('40s'),
    apiConcurrency: int(1, 256).default(8),
    cleanup: z.boolean().default(false),
    legacyFraction: fraction.default(0.1),
    epoch: z
      .union([z.string(), z.number()])
      .transform((v, ctx) => {
        const ms = typeof v === 'number' ? v : Date.parse(v);
        if (!Number.isFinite(ms)) {
          ctx.addIssue({ code: 'custom', message: `expected an ISO time or epoch milliseconds, got '${v}'` });
          return z.NEVER;
        }
        return Math.floor(ms / 1000) * 1000;
      })
      .optional(),
    historyRetention: duration.prefault('2h'),
    recordSummaries: int(0, 10_000).default(0),
  })
  .superRefine((o, ctx) => {
    if (o.interval < 1000 || o.interval % 1000 !== 0)
      ctx.addIssue({ code: 'custom', path: ['interval'], message: 'must be a whole number of seconds ≥ 1s (kubelet timestamps have 1 s resolution)' });
    for (const s of o.clockSkew) {
      if (s.nodeIndex >= o.nodes) ctx.addIssue({ code: 'custom', path: ['clockSkew'], message: `node index ${s.nodeIndex} is out of range (0..${o.nodes - 1})` });
    }
    if (o.addressOctet === 0 || (o.nodes > 250 * 256)) ctx.addIssue({ code: 'custom', path: ['nodes'], message: 'too many nodes for one 127.x/16 block' });
  });

export type SimOptionsInput = z.input<typeof simOptionsSchema>;
export type SimConfig = z.output<typeof simOptionsSchema>;

/** camelCase option key → CLI flag, for error messages. */
export function flagName(key: string): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

export class SimConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(issues.join('; '));
    this.name = 'SimConfigError';
  }
}

export function parseSimOptions(input: SimOptionsInput): SimConfig {
  const result = simOptionsSchema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((issue) => {
    const key = issue.path[0];
    return `${typeof key === 'string' ? flagName(key) : 'options'}: ${issue.message}`;
  });
  throw new SimConfigError(issues);
}
