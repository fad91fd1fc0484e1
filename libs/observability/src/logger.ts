import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Field names whose values never reach a log line. */
const redactedPaths = [
  'token', '*.token', 'password', '*.password', 'authorization', '*.authorization',
  'headers.authorization', '*.headers.authorization', '*.*.headers.authorization', 'sasl.password', 'bearerToken',
];

/**
 * Structured JSON logs on stdout; secrets redacted by field name; the level by name
 * (`"level":"warn"`, what log pipelines and people filter on) rather than pino's number.
 */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info', destination?: DestinationStream): Logger {
  const options = {
    name: service,
    level,
    redact: { paths: redactedPaths, censor: '[redacted]' },
    base: { service },
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

/**
 * Logs a problem once per (scope, cause) so a node that fails every round, or a
 * poison record that repeats, does not flood the log; later repeats are only counted.
 */
export class OnceLogger {
  private readonly seen = new Map<string, number>();
  constructor(private readonly logger: Logger, private readonly maxKeys = 10_000) {}

  warn(scope: string, cause: string, fields: Record<string, unknown>, message: string): void {
    const key = `${scope}\u0000${cause}`;
    const count = this.seen.get(key) ?? 0;
    if (count === 0) {
      if (this.seen.size >= this.maxKeys) this.seen.clear();
      this.logger.warn({ ...fields, scope, cause }, message);
    }
    this.seen.set(key, count + 1);
  }

  /** Forget a scope once it recovers, so its next failure is logged again. */
  recovered(scope: string): void {
    for (const key of this.seen.keys()) if (key.startsWith(`${scope}\u0000`)) this.seen.delete(key);
  }
}
