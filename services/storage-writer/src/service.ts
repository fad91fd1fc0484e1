import { createKafka } from '@heapstream/kafka';
import type { ServiceDefinition } from '@heapstream/service-runtime';
import { storageWriterConfigSchema } from './config.js';
import { SERVICE_NAME, StorageWriter } from './storage-writer.js';
import { StorageWriterModule } from './storage-writer.module.js';

/** The storage-writer service: Kafka metric, rollup and event topics -> InfluxDB. */
export function storageWriterService(): ServiceDefinition<typeof storageWriterConfigSchema> {
  let writer: StorageWriter | undefined;
  return {
    name: SERVICE_NAME,
    configSchema: storageWriterConfigSchema,
    module: (ctx) => {
      writer = new StorageWriter(ctx.config, createKafka(ctx.config, ctx.logger, SERVICE_NAME), ctx.logger, ctx.metrics, ctx.health);
      return StorageWriterModule.forWriter(writer);
    },
    transports: () => [writer!.transport()],
  };
}
