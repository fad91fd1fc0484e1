import { Controller, Inject, Module, type DynamicModule, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import type { KafkaBatch } from '@heapstream/kafka';
import { StorageWriter } from './storage-writer.js';

const WRITER = Symbol('storage-writer');

/**
 * One `@EventPattern` handler per input topic. Topic names carry the configured
 * prefix, so the controller is made when the config is known and the decorators are
 * applied by hand (decorators are plain functions).
 */
function controllerFor(topics: readonly string[]) {
  @Controller()
  class StorageWriterController {
    constructor(@Inject(WRITER) readonly writer: StorageWriter) {}
  }
  topics.forEach((topic, i) => {
    const name = `handle${i}`;
    const descriptor: PropertyDescriptor = {
      value(this: StorageWriterController, batch: KafkaBatch) {
        return this.writer.handle(batch);
      },
      writable: true,
      configurable: true,
    };
    Object.defineProperty(StorageWriterController.prototype, name, descriptor);
    Payload()(StorageWriterController.prototype, name, 0);
    EventPattern(topic)(StorageWriterController.prototype, name, descriptor);
  });
  return StorageWriterController;
}

@Module({})
export class StorageWriterModule implements OnModuleInit, OnApplicationShutdown {
  constructor(@Inject(WRITER) private readonly writer: StorageWriter) {}

  static forWriter(writer: StorageWriter): DynamicModule {
    return {
      module: StorageWriterModule,
      controllers: [controllerFor([...writer.routes.keys()])],
      providers: [{ provide: WRITER, useValue: writer }],
    };
  }

  async onModuleInit(): Promise<void> {
    await this.writer.start();
  }

  /** Runs after the transports closed (intake first), so nothing is mid-write. */
  async onApplicationShutdown(): Promise<void> {
    await this.writer.close();
  }
}
