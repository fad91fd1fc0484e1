import { Controller, Inject, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { KafkaBatch } from '@heapstream/kafka';
import { freshnessCheck, type HealthRegistry } from '@heapstream/observability';
import { HEALTH } from '@heapstream/service-runtime';
import type { AggregatorEngine } from './engine.js';

export const ENGINE = Symbol('aggregator.engine');
export const METADATA_LIFECYCLE = Symbol('aggregator.metadata');

/** Something started at boot and stopped at shutdown (the informers). */
export interface Lifecycle {
  start(): Promise<void>;
  stop(): Promise<void>;
}

class EngineLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(ENGINE) private readonly engine: AggregatorEngine,
    @Inject(METADATA_LIFECYCLE) private readonly metadata: Lifecycle | null,
    @Inject(HEALTH) private readonly health: HealthRegistry,
  ) {}
  async onModuleInit(): Promise<void> {
    await this.metadata?.start();
    await this.engine.prepare();
    this.health.register(freshnessCheck('aggregator-batches', () => this.engine.lastBatchTime, 5 * 60_000));
  }
  async onApplicationShutdown(): Promise<void> {
    await this.engine.close();
    await this.metadata?.stop();
  }
}

/** The Nest shell: one controller for the raw topic (its name depends on the prefix), the engine underneath. */
export function aggregatorModule(rawTopic: string, engine: AggregatorEngine, metadata: Lifecycle | null): DynamicModule {
  @Controller()
  class RawScrapeController {
    constructor(@Inject(ENGINE) private readonly engine: AggregatorEngine) {}
    handle(batch: KafkaBatch): Promise<void> {
      return this.engine.handleBatch(batch);
    }
  }
  // The topic name carries the configured prefix: decorate by hand once it is known.
  Payload()(RawScrapeController.prototype, 'handle', 0);
  EventPattern(rawTopic)(RawScrapeController.prototype, 'handle', Object.getOwnPropertyDescriptor(RawScrapeController.prototype, 'handle')!);
  @Module({})
  class AggregatorModule {}
  return {
    module: AggregatorModule,
    controllers: [RawScrapeController],
    providers: [
      { provide: ENGINE, useValue: engine },
      { provide: METADATA_LIFECYCLE, useValue: metadata },
      { provide: EngineLifecycle, inject: [ENGINE, METADATA_LIFECYCLE, HEALTH], useFactory: (e: AggregatorEngine, m: Lifecycle | null, h: HealthRegistry) => new EngineLifecycle(e, m, h) },
    ],
  };
}
