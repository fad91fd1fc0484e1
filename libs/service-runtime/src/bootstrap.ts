import 'reflect-metadata';
import { Module, type INestApplication, type LoggerService, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { CustomTransportStrategy } from '@nestjs/microservices';
import { createLogger, HealthRegistry, StageMetrics, type Logger } from '@heapstream/observability';
import type { z } from 'zod';
import { baseConfigSchema, ConfigError, loadConfig } from './config.js';
import { RuntimeModule } from './runtime.module.js';
import { RethrowRpcErrors } from './rpc-errors.js';

/** Nest's own log lines, as structured JSON through the service's logger. */
class NestPinoLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}
  log(message: unknown, context?: string) { this.logger.debug({ context }, String(message)); }
  error(message: unknown, trace?: string, context?: string) { this.logger.error({ context, trace }, String(message)); }
  warn(message: unknown, context?: string) { this.logger.warn({ context }, String(message)); }
  debug(message: unknown, context?: string) { this.logger.debug({ context }, String(message)); }
  verbose(message: unknown, context?: string) { this.logger.trace({ context }, String(message)); }
}

export interface ServiceDefinition<S extends z.ZodType> {
  name: string;
  configSchema: S;
  /** The service's feature module, given the validated config and shared runtime pieces. */
  module(ctx: ServiceContext<z.infer<S>>): Type<unknown> | import('@nestjs/common').DynamicModule;
  /** Kafka intake transports; closed first on shutdown so intake stops before flushing. */
  transports?(app: INestApplication, ctx: ServiceContext<z.infer<S>>): CustomTransportStrategy[];
}

export interface ServiceContext<C> {
  config: C & z.infer<typeof baseConfigSchema>;
  logger: Logger;
  metrics: StageMetrics;
  health: HealthRegistry;
}

export interface RunningService {
  app: INestApplication;
  url: string;
  /** Stops intake, then flushes (module shutdown hooks), then closes HTTP. Safe to call twice. */
  shutdown(reason?: string): Promise<void>;
}

/**
 * Boots a service: validates config (failing with the variable's name), wires
 * logging, metrics and health, starts intake and HTTP, and installs signal handlers.
 */
export async function startService<S extends z.ZodType>(def: ServiceDefinition<S>, env: NodeJS.ProcessEnv = process.env, opts: { handleSignals?: boolean } = {}): Promise<RunningService> {
  const base = loadConfig(baseConfigSchema, env);
  const own = loadConfig(def.configSchema, env) as z.infer<S>;
  const config = { ...base, ...(own as object) } as ServiceContext<z.infer<S>>['config'];
  const logger = createLogger(def.name, base.LOG_LEVEL);
  const metrics = new StageMetrics(def.name);
  const health = new HealthRegistry();
  const ctx: ServiceContext<z.infer<S>> = { config, logger, metrics, health };

  @Module({ imports: [RuntimeModule.forService({ config, logger, metrics, health }), def.module(ctx)] })
  class ServiceModule {}

  const app = await NestFactory.create(ServiceModule, { logger: new NestPinoLogger(logger), abortOnError: false });
  const transports = def.transports?.(app, ctx) ?? [];
  // Before the transports connect: their handlers take the app's filters as they register.
  app.useGlobalFilters(new RethrowRpcErrors(app.getHttpAdapter()));
  for (const strategy of transports) app.connectMicroservice({ strategy }, { inheritAppConfig: true });
  await app.startAllMicroservices();
  await app.listen(base.HEAPSTREAM_HTTP_PORT, base.HEAPSTREAM_HTTP_HOST);
  const address = app.getHttpServer().address() as { port: number };
  const url = `http://${base.HEAPSTREAM_HTTP_HOST}:${address.port}`;
  logger.info({ url }, `${def.name} started`);

  let closing: Promise<void> | undefined;
  const shutdown = (reason = 'shutdown') =>
    (closing ??= (async () => {
      logger.info({ reason }, `${def.name} stopping: intake first, then flush`);
      for (const t of transports) await t.close();
      await app.close();
      logger.info(`${def.name} stopped`);
    })());

  if (opts.handleSignals !== false) {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      process.once(signal, () => {
        shutdown(signal).then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'shutdown failed');
            process.exit(1);
          },
        );
      });
    }
  }
  return { app, url, shutdown };
}

/** For main.ts: boot, or print the config error (naming the variable) and exit 2. */
export function runService<S extends z.ZodType>(def: ServiceDefinition<S>): void {
  startService(def).catch((err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`${def.name}: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${def.name}: failed to start: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
