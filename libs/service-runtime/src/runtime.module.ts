import { Global, Module, type DynamicModule } from '@nestjs/common';
import { HealthRegistry, StageMetrics, type Logger } from '@heapstream/observability';
import { HealthController } from './health.controller.js';
import { CONFIG, HEALTH, LOGGER, METRICS } from './tokens.js';

/** Provides config, logger, health registry and metrics to every module of a service. */
@Global()
@Module({})
export class RuntimeModule {
  static forService(opts: { config: unknown; logger: Logger; metrics: StageMetrics; health?: HealthRegistry }): DynamicModule {
    return {
      module: RuntimeModule,
      controllers: [HealthController],
      providers: [
        { provide: CONFIG, useValue: opts.config },
        { provide: LOGGER, useValue: opts.logger },
        { provide: METRICS, useValue: opts.metrics },
        { provide: HEALTH, useValue: opts.health ?? new HealthRegistry() },
      ],
      exports: [CONFIG, LOGGER, METRICS, HEALTH],
    };
  }
}
