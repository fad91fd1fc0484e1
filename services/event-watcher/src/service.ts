import type { ServiceDefinition } from '@heapstream/service-runtime';
import { eventWatcherConfigSchema } from './config.js';
import { EventWatcherModule } from './event-watcher.module.js';

export const eventWatcherService: ServiceDefinition<typeof eventWatcherConfigSchema> = {
  name: 'event-watcher',
  configSchema: eventWatcherConfigSchema,
  module: () => EventWatcherModule,
};
