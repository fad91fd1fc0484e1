import type { Kafka } from 'kafkajs';
import { consumerLag } from './topics.js';
import type { HealthCheck, Logger, StageMetrics } from '@heapstream/observability';

/** Consumer lag is "keeps growing" when each of the last n samples is larger than the one before. */
export function lagKeepsGrowing(samples: readonly number[], n: number): boolean {
  if (samples.length < n) return false;
  const last = samples.slice(-n);
  for (let i = 1; i < last.length; i++) if (last[i]! <= last[i - 1]!) return false;
  return true;
}

/**
 * Samples a consumer group's lag from the broker (committed offsets vs partition ends) on
 * a timer. A consumer updates its lag only after a batch succeeded; while its sink is down
 * no batch succeeds, and this is what still sees the lag rising. `latest` (undefined until
 * a sample succeeds, or when the last one failed) tells liveness whether there is work.
 */
export class LagMonitor {
  private readonly samples: number[] = [];
  private timer?: NodeJS.Timeout;
  private running = false;
  private latestTotal?: number;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly topics: string[],
    private readonly metrics: StageMetrics,
    private readonly options: { intervalMs: number; growthSamples: number; logger: Logger },
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sample(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Total lag of the last sample; undefined before the first or after a failed one (the broker unreachable). */
  get latest(): number | undefined {
    return this.latestTotal;
  }

  async sample(): Promise<number | undefined> {
    if (this.running) return undefined;
    this.running = true;
    try {
      const lags = await consumerLag(this.kafka, this.groupId, this.topics);
      let total = 0;
      for (const l of lags) {
        this.metrics.lag.set({ topic: l.topic, partition: String(l.partition) }, l.lag);
        total += l.lag;
      }
      this.samples.push(total);
      this.latestTotal = total;
      if (this.samples.length > this.options.growthSamples) this.samples.shift();
      return total;
    } catch (err) {
      this.options.logger.debug({ err }, 'lag sample failed');
      this.latestTotal = undefined;
      return undefined;
    } finally {
      this.running = false;
    }
  }

  healthCheck(): HealthCheck {
    return {
      name: 'consumer-lag',
      check: () => {
        const last = this.samples[this.samples.length - 1];
        if (lagKeepsGrowing(this.samples, this.options.growthSamples)) return { ok: false, detail: `lag grew for ${this.options.growthSamples} samples in a row, now ${last}` };
        return { ok: true, detail: last === undefined ? 'no sample yet' : `lag ${last}` };
      },
    };
  }
}
