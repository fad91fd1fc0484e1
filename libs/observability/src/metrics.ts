import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The self-metrics every pipeline stage emits (received, sent, errors by type,
 * discarded by reason, batch sizes, durations), so dashboards and alerts read the
 * same names for every service. Stage-specific metrics register on `registry`.
 */
export class StageMetrics {
  readonly registry = new Registry();
  readonly received: Counter<'stage'>;
  readonly sent: Counter<'stage'>;
  readonly errors: Counter<'stage' | 'type'>;
  readonly discarded: Counter<'stage' | 'reason'>;
  readonly batchSize: Histogram<'stage'>;
  readonly duration: Histogram<'stage'>;
  readonly lag: Gauge<'topic' | 'partition'>;

  constructor(readonly service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry, prefix: 'heapstream_process_' });
    const registers = [this.registry];
    this.received = new Counter({ name: 'heapstream_received_total', help: 'Items received by a stage', labelNames: ['stage'], registers });
    this.sent = new Counter({ name: 'heapstream_sent_total', help: 'Items a stage handed on', labelNames: ['stage'], registers });
    this.errors = new Counter({ name: 'heapstream_errors_total', help: 'Errors by stage and type (retryable errors are retried, not dropped)', labelNames: ['stage', 'type'], registers });
    this.discarded = new Counter({ name: 'heapstream_discarded_total', help: 'Items dropped (and dead-lettered) by reason', labelNames: ['stage', 'reason'], registers });
    this.batchSize = new Histogram({ name: 'heapstream_batch_size', help: 'Items per batch', labelNames: ['stage'], buckets: [1, 10, 100, 1_000, 5_000, 20_000, 100_000], registers });
    this.duration = new Histogram({ name: 'heapstream_duration_seconds', help: 'Time a stage spends on one batch or round', labelNames: ['stage'], buckets: [0.005, 0.02, 0.1, 0.5, 1, 2, 5, 10, 30], registers });
    this.lag = new Gauge({ name: 'heapstream_consumer_lag', help: 'Records behind the partition end', labelNames: ['topic', 'partition'], registers });
  }
}
