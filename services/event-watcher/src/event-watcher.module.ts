import { Inject, Module, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import type { HealthRegistry, Logger, StageMetrics } from '@heapstream/observability';
import { CONFIG, HEALTH, LOGGER, METRICS } from '@heapstream/service-runtime';
import type { EventWatcherConfig } from './config.js';
import { EventWatcherRunner } from './runner.js';

const RUNNER = Symbol('event-watcher.runner');

class EventWatcherLifecycle implements OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(@Inject(RUNNER) private readonly runner: EventWatcherRunner) {}
  onApplicationBootstrap(): void {
    this.runner.start();
  }
  /** Before HTTP closes: stop the watch, flush the last batch, release the Lease. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.runner.stop();
  }
}

@Module({
  providers: [
    {
      provide: RUNNER,
      inject: [CONFIG, LOGGER, METRICS, HEALTH],
      useFactory: (config: EventWatcherConfig & { HEAPSTREAM_CLUSTER_NAME: string }, logger: Logger, metrics: StageMetrics, health: HealthRegistry) =>
        EventWatcherRunner.create({ config, logger, metrics, health }),
    },
    { provide: EventWatcherLifecycle, inject: [RUNNER], useFactory: (runner: EventWatcherRunner) => new EventWatcherLifecycle(runner) },
  ],
})
export class EventWatcherModule {}
