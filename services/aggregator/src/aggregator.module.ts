import { Controller, Inject, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { KafkaBatch } from '@heapstream/kafka';
import { freshnessCheck, stallCheck, type HealthRegistry } from '@heapstream/observability';
import { HEALTH } from '@heapstream/service-runtime';
import type { AggregatorEngine } from './engine.js';
import type { EventCountEngine } from './events/event-count-engine.js';

export const ENGINE = Symbol('aggregator.engine');
export const METADATA_LIFECYCLE = Symbol('aggregator.metadata');
export const EVENT_COUNTS = Symbol('aggregator.event-counts');

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
    @Inject(EVENT_COUNTS) private readonly eventCounts: EventCountEngine | null,
  ) {}
  async onModuleInit(): Promise<void> {
    await this.metadata?.start();
    await this.engine.prepare();
    // Events may be quiet for hours: the counters have no freshness check of their own.
    await this.eventCounts?.prepare();
    this.health.register(freshnessCheck('aggregator-batches', () => this.engine.lastBatchTime, 5 * 60_000));
    // Raw records waiting (the broker says so) and no batch committed for this long: stuck
    // (a restore that keeps failing, a wedged transaction), which a restart may clear.
    this.health.registerLiveness(stallCheck('aggregator-progress', () => (this.engine.lag.latest ?? 0) > 0, () => this.engine.lastBatchTime, this.engine.livenessStallMs));
  }
  async onApplicationShutdown(): Promise<void> {
    await this.engine.close();
    await this.eventCounts?.close();
    await this.metadata?.stop();
  }
}

/** Decorates `handle` as the handler of `topic`, whose name carries the configured prefix and is known only at run time. */
function handles(controller: { prototype: object }, topic: string): void {
  Payload()(controller.prototype, 'handle', 0);
  EventPattern(topic)(controller.prototype, 'handle', Object.getOwnPropertyDescriptor(controller.prototype, 'handle')!);
}

/** The Nest shell: a controller for the raw topic and one for the event topic, the engines underneath. */
export function aggregatorModule(rawTopic: string, engine: AggregatorEngine, metadata: Lifecycle | null, eventCounts: { engine: EventCountEngine; topic: string } | null): DynamicModule {
  @Controller()
  class RawScrapeController {
    constructor(@Inject(ENGINE) private readonly engine: AggregatorEngine) {}
    handle(batch: KafkaBatch): Promise<void> {
      return this.engine.handleBatch(batch);
    }
  }
  handles(RawScrapeController, rawTopic);
  @Controller()
  class EventRecordController {
    constructor(@Inject(EVENT_COUNTS) private readonly engine: EventCountEngine) {}
    handle(batch: KafkaBatch): Promise<void> {
      return this.engine.handleBatch(batch);
    }
  }
  if (eventCounts) handles(EventRecordController, eventCounts.topic);
  @Module({})
  class AggregatorModule {}
  return {
    module: AggregatorModule,
    controllers: eventCounts ? [RawScrapeController, EventRecordController] : [RawScrapeController],
    providers: [
      { provide: ENGINE, useValue: engine },
      { provide: METADATA_LIFECYCLE, useValue: metadata },
      { provide: EVENT_COUNTS, useValue: eventCounts?.engine ?? null },
      {
        provide: EngineLifecycle,
        inject: [ENGINE, METADATA_LIFECYCLE, HEALTH, EVENT_COUNTS],
        useFactory: (e: AggregatorEngine, m: Lifecycle | null, h: HealthRegistry, c: EventCountEngine | null) => new EngineLifecycle(e, m, h, c),
      },
    ],
  };
}
