import { Controller, Get, Header, Inject, Res } from '@nestjs/common';
import type { HealthRegistry, StageMetrics } from '@heapstream/observability';
import { HEALTH, METRICS } from './tokens.js';

interface ReplyLike {
  status(code: number): ReplyLike;
  json(body: unknown): void;
}

/** Liveness asks whether a restart would help (a stalled stage); readiness whether data is flowing. */
@Controller()
export class HealthController {
  constructor(
    @Inject(HEALTH) private readonly health: HealthRegistry,
    @Inject(METRICS) private readonly metrics: StageMetrics,
  ) {}

  @Get('healthz')
  async healthz(@Res() res: ReplyLike) {
    const report = await this.health.liveness();
    res.status(report.ok ? 200 : 503).json(report);
  }

  @Get('readyz')
  async readyz(@Res() res: ReplyLike) {
    const report = await this.health.report();
    res.status(report.ok ? 200 : 503).json(report);
  }

  @Get('metrics')
  @Header('content-type', 'text/plain; version=0.0.4')
  async prometheus() {
    return this.metrics.registry.metrics();
  }
}
