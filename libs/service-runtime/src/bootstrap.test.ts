import { Controller, Get, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { EventPattern, Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { HealthRegistry } from '@heapstream/observability';
import { ConfigError, durationMs, flag, loadConfig } from './config.js';
import { startService } from './bootstrap.js';
import { HEALTH } from './tokens.js';

describe('loadConfig', () => {
  const schema = z.object({ SCRAPE_INTERVAL: durationMs('15s'), KUBELET_INSECURE: flag(false), PORT: z.coerce.number().int().positive() });

  it('applies defaults and parses durations and flags', () => {
    expect(loadConfig(schema, { PORT: '80', KUBELET_INSECURE: 'yes' })).toEqual({ SCRAPE_INTERVAL: 15_000, KUBELET_INSECURE: true, PORT: 80 });
    expect(loadConfig(schema, { PORT: '80', SCRAPE_INTERVAL: '2m' }).SCRAPE_INTERVAL).toBe(120_000);
  });

  it('names every bad variable, its value and what it expects', () => {
    let error: unknown;
    try {
      loadConfig(schema, { SCRAPE_INTERVAL: 'soon', KUBELET_INSECURE: 'maybe' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/SCRAPE_INTERVAL: expected a duration like .* \(got "soon"\)/);
    expect(message).toMatch(/KUBELET_INSECURE: expected true or false \(got "maybe"\)/);
    expect(message).toMatch(/PORT: .*\(not set\)/);
  });
});

describe('startService', () => {
  const flushed: string[] = [];

  @Controller('probe')
  class ProbeController {
    constructor(@Inject(HEALTH) private readonly health: HealthRegistry) {}
    @Get()
    probe() {
      return { injected: typeof this.health.report === 'function' };
    }
  }

  @Module({ controllers: [ProbeController] })
  class ProbeModule implements OnApplicationShutdown {
    onApplicationShutdown() {
      flushed.push('flushed');
    }
  }

  it('serves /healthz, /readyz from registered checks and Prometheus /metrics, then shuts down once', async () => {
    let ready = false;
    let stuck = false;
    const service = await startService(
      {
        name: 'probe',
        configSchema: z.object({}),
        module: ({ health }) => {
          health.register({ name: 'flowing', check: () => ({ ok: ready, detail: ready ? 'yes' : 'no data yet' }) });
          health.registerLiveness({ name: 'progress', check: () => ({ ok: !stuck, detail: stuck ? 'stalled' : 'moving' }) });
          return ProbeModule;
        },
      },
      { HEAPSTREAM_HTTP_PORT: '0', LOG_LEVEL: 'fatal' },
      { handleSignals: false },
    );
    try {
      // Not ready is not dead: liveness consults only its own checks.
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${service.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ ok: false, checks: { flowing: { ok: false, detail: 'no data yet' } } });
      ready = true;
      expect((await fetch(`${service.url}/readyz`)).status).toBe(200);
      stuck = true;
      const dead = await fetch(`${service.url}/healthz`);
      expect(dead.status).toBe(503);
      expect(await dead.json()).toEqual({ ok: false, checks: { progress: { ok: false, detail: 'stalled' } } });
      expect(await (await fetch(`${service.url}/probe`)).json()).toEqual({ injected: true });
      const metrics = await (await fetch(`${service.url}/metrics`)).text();
      expect(metrics).toContain('heapstream_received_total');
      expect(metrics).toContain('service="probe"');
    } finally {
      await Promise.all([service.shutdown(), service.shutdown()]);
    }
    expect(flushed).toEqual(['flushed']);
  });

  it("hands a message handler's error to its transport as thrown, so kafkajs can tell a rebalance", async () => {
    class RebalanceError extends Error {
      readonly type = 'REBALANCE_IN_PROGRESS';
    }
    const thrown = new RebalanceError('The group is rebalancing, so a rejoin is needed');

    @Controller('failing')
    class FailingController {
      @EventPattern('topic')
      handle(_data: unknown): void {
        throw thrown;
      }
      @Get()
      get(): void {
        throw new Error('a bug');
      }
    }
    @Module({ controllers: [FailingController] })
    class FailingModule {}

    /** A transport that delivers one message on demand, as KafkaBatchTransport delivers a batch. */
    class OnDemandTransport extends Server implements CustomTransportStrategy {
      listen(callback: () => void): void {
        callback();
      }
      close(): void {}
      on(): never {
        throw new Error('no events');
      }
      unwrap<T>(): T {
        return undefined as T;
      }
      async deliver(pattern: string, data: unknown): Promise<unknown> {
        const handler = this.getHandlerByPattern(pattern)!;
        return lastValueFrom(this.transformToObservable(await handler(data)), { defaultValue: undefined });
      }
    }

    const transport = new OnDemandTransport();
    const service = await startService(
      { name: 'rpc', configSchema: z.object({}), module: () => FailingModule, transports: () => [transport] },
      { HEAPSTREAM_HTTP_PORT: '0', LOG_LEVEL: 'fatal' },
      { handleSignals: false },
    );
    try {
      const err = await transport.deliver('topic', {}).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBe(thrown);
      // HTTP keeps Nest's default answer.
      const http = await fetch(`${service.url}/failing`);
      expect(http.status).toBe(500);
      expect(await http.json()).toEqual({ statusCode: 500, message: 'Internal server error' });
    } finally {
      await service.shutdown();
    }
  });

  it('fails at boot naming the variable when the shared config is bad', async () => {
    await expect(startService({ name: 'x', configSchema: z.object({}), module: () => ProbeModule }, { HEAPSTREAM_HTTP_PORT: 'eighty' }, { handleSignals: false })).rejects.toThrow(/HEAPSTREAM_HTTP_PORT/);
  });
});
