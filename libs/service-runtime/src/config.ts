import { z } from 'zod';

export class ConfigError extends Error {}

/**
 * Validates the environment against a schema. A bad value fails at boot with one
 * line per variable that names it, says what is wrong and what it should be.
 */
export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const variable = issue.path.join('.') || '(environment)';
    const got = typeof issue.path[0] === 'string' && env[issue.path[0]] !== undefined ? ` (got "${env[issue.path[0]]}")` : ' (not set)';
    return `  ${variable}: ${issue.message}${got}`;
  });
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

/** A comma-separated list variable, e.g. KAFKA_BROKERS=a:9092,b:9092. */
export const csv = () =>
  z.string().transform((s) => s.split(',').map((p) => p.trim()).filter(Boolean));

/** A boolean variable that accepts true/false/1/0/yes/no. */
export const flag = (defaultValue: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
    .default(defaultValue ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A duration in seconds (accepts "15", "15s", "2m", "1h"), returned in milliseconds. */
export const durationMs = (defaultValue: string) =>
  z
    .string()
    .default(defaultValue)
    .transform((v, ctx) => {
      const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
      if (!m) {
        ctx.addIssue({ code: 'custom', message: 'expected a duration like 500ms, 15s, 2m or 1h' });
        return z.NEVER;
      }
      const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
      return Math.round(Number(m[1]) * unit);
    });

/** Settings every service shares; each service extends this schema with its own. */
export const baseConfigSchema = z.object({
  HEAPSTREAM_HTTP_HOST: z.string().default('127.0.0.1').describe('address for /healthz, /readyz and /metrics (0.0.0.0 in a pod)'),
  HEAPSTREAM_HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8080).describe('port for /healthz, /readyz and /metrics'),
  HEAPSTREAM_CLUSTER_NAME: z.string().min(1).default('default').describe('the cluster_name tag on every point'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
  HEAPSTREAM_LIVENESS_STALL: durationMs('10m').describe('/healthz fails when a stage has had work but made no progress for this long (a restart would help)'),
});
