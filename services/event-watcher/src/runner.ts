import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { EVENT_WATCHER_CHECKPOINT_TOPIC, EVENTS_TOPIC, HEAPSTER_EVENTS_TOPIC } from '@heapstream/contracts';
import { compressionOf, createKafka, ensureTopics, isRetryableKafkaError } from '@heapstream/kafka';
import { isTransientKubeError, KubeHttp, LeaderElector, loadKubeConfig } from '@heapstream/kube';
import { retryAtBoot, stallCheck, type HealthRegistry, type Logger, type StageMetrics } from '@heapstream/observability';
import { leaseName, type EventWatcherConfig } from './config.js';
import { prometheusWatcherMetrics } from './metrics.js';
import { KafkaEventOutput } from './output/kafka-output.js';
import { detectEventsApi, eventStreams } from './streams.js';
import { EventWatcher } from './watcher.js';
import { ApiWorkloadResolver } from './workload-resolver.js';

export interface RunnerContext {
  config: EventWatcherConfig & { HEAPSTREAM_CLUSTER_NAME: string; HEAPSTREAM_LIVENESS_STALL?: number };
  logger: Logger;
  metrics: StageMetrics;
  health: HealthRegistry;
}

/** Topic names after the optional test/tenant prefix. */
export function eventTopics(prefix: string, heapster: boolean) {
  return {
    events: `${prefix}${EVENTS_TOPIC}`,
    checkpoints: `${prefix}${EVENT_WATCHER_CHECKPOINT_TOPIC}`,
    heapster: heapster ? `${prefix}${HEAPSTER_EVENTS_TOPIC}` : undefined,
  };
}

/**
 * The whole service without Nest: topics, the watcher, and (optionally) the Lease that
 * decides which replica runs it. `stop` stops intake, flushes, and releases the Lease.
 */
export class EventWatcherRunner {
  private readonly ctl = new AbortController();
  private running: Promise<void> | undefined;
  private elector: LeaderElector | undefined;
  private watcher!: EventWatcher;

  private constructor(private readonly ctx: RunnerContext) {}

  static async create(ctx: RunnerContext): Promise<EventWatcherRunner> {
    const r = new EventWatcherRunner(ctx);
    await r.init();
    return r;
  }

  get isLeader(): boolean {
    return this.elector ? this.elector.isLeader : true;
  }

  private async init(): Promise<void> {
    const { config: c, logger } = this.ctx;
    const http = await KubeHttp.create(loadKubeConfig(c.KUBECONFIG ? { kubeconfigPath: c.KUBECONFIG } : {}));
    const kafka = createKafka(c, logger, c.KAFKA_CLIENT_ID ?? 'heapstream-event-watcher');
    const topics = eventTopics(c.HEAPSTREAM_TOPIC_PREFIX, c.EVENTS_HEAPSTER_COMPAT);
    // Kafka or the API server may still be starting: wait for them instead of failing the boot.
    await retryAtBoot('event topics', () =>
      ensureTopics(kafka, [
        { name: topics.events, partitions: c.EVENTS_PARTITIONS },
        { name: topics.checkpoints, partitions: 1, compacted: true },
        ...(topics.heapster ? [{ name: topics.heapster, partitions: c.EVENTS_PARTITIONS }] : []),
      ]),
      { isRetryable: isRetryableKafkaError, logger },
    );
    const api = await retryAtBoot('events API discovery', () => detectEventsApi(http, c.EVENTS_API), { isRetryable: isTransientKubeError, logger });
    const streams = eventStreams(api, c.EVENTS_NAMESPACES);
    logger.info({ api, streams: streams.map((s) => s.id), topics }, 'event watcher configured');
    const output = new KafkaEventOutput({
      kafka,
      eventsTopic: topics.events,
      checkpointTopic: topics.checkpoints,
      ...(topics.heapster ? { heapsterTopic: topics.heapster } : {}),
      transactionalId: c.EVENT_WATCHER_TRANSACTIONAL_ID ?? `${c.HEAPSTREAM_TOPIC_PREFIX}heapstream-event-watcher-${c.HEAPSTREAM_CLUSTER_NAME}`,
      compression: compressionOf(c),
    });
    const metrics = prometheusWatcherMetrics(this.ctx.metrics, () => ({ lastCheckpointAt: this.watcher.status().lastCheckpointAt, leader: this.isLeader }));
    this.watcher = new EventWatcher({
      http,
      output,
      streams,
      ...(c.EVENTS_FIELD_SELECTOR ? { fieldSelector: c.EVENTS_FIELD_SELECTOR } : {}),
      ...(c.EVENTS_LABEL_SELECTOR ? { labelSelector: c.EVENTS_LABEL_SELECTOR } : {}),
      filter: {
        includeTypes: c.EVENTS_INCLUDE_TYPES,
        excludeTypes: c.EVENTS_EXCLUDE_TYPES,
        includeReasons: c.EVENTS_INCLUDE_REASONS,
        excludeReasons: c.EVENTS_EXCLUDE_REASONS,
        includeKinds: c.EVENTS_INCLUDE_KINDS,
        excludeKinds: c.EVENTS_EXCLUDE_KINDS,
      },
      cluster: c.HEAPSTREAM_CLUSTER_NAME,
      ...(topics.heapster ? { heapsterTopic: topics.heapster } : {}),
      ...(c.EVENTS_BACKFILL_MAX_AGE !== undefined ? { backfillMaxAgeMs: c.EVENTS_BACKFILL_MAX_AGE } : {}),
      maxExpand: c.EVENTS_MAX_EXPAND,
      maxMessageBytes: c.EVENTS_MAX_MESSAGE_BYTES,
      recreatedWithinMs: c.EVENTS_RECREATED_WITHIN,
      flushIntervalMs: c.EVENTS_FLUSH_INTERVAL,
      maxBatch: c.EVENTS_MAX_BATCH,
      checkpointIntervalMs: c.EVENTS_CHECKPOINT_INTERVAL,
      silenceTimeoutMs: c.EVENTS_WATCH_SILENCE,
      watchTimeoutSeconds: Math.max(1, Math.round(c.EVENTS_WATCH_TIMEOUT / 1000)),
      ...(c.EVENTS_RESOLVE_WORKLOADS ? { resolver: new ApiWorkloadResolver(http) } : {}),
      metrics,
      log: (level, msg, extra) => logger[level](extra ?? {}, msg),
    });
    if (c.LEADER_ELECTION) {
      const identity = `${c.POD_NAME ?? hostname()}-${randomBytes(3).toString('hex')}`;
      this.elector = new LeaderElector({
        http,
        namespace: c.LEASE_NAMESPACE ?? c.POD_NAMESPACE ?? 'default',
        name: leaseName(c),
        identity,
        leaseDurationSeconds: Math.max(1, Math.round(c.LEASE_DURATION / 1000)),
        renewDeadlineMs: c.LEASE_RENEW_DEADLINE,
        retryPeriodMs: c.LEASE_RETRY_PERIOD,
        onStartedLeading: async (signal) => {
          logger.info({ identity }, 'became leader: restoring the checkpoint, then watching');
          await this.watcher.run(signal);
        },
        onStoppedLeading: () => logger.info({ identity }, 'stopped leading'),
        onNewLeader: (leader) => logger.info({ leader }, 'leader observed'),
        onError: (err) => logger.warn({ err: err.message }, 'leader election error'),
      });
    }
    // The leader re-commits its positions every EVENTS_CHECKPOINT_INTERVAL while its
    // streams run: none for this long (a stream stalled, a restore failing over and over)
    // is a stuck watcher, which a restart may clear.
    this.ctx.health.registerLiveness(
      stallCheck('event-watch-progress', () => !this.elector || this.elector.isLeader, () => this.watcher.status().lastCheckpointAt, c.HEAPSTREAM_LIVENESS_STALL ?? 600_000),
    );
    this.ctx.health.register({
      name: 'event-watch',
      check: () => {
        if (this.elector && !this.elector.isLeader) {
          const leader = this.elector.leader;
          return leader ? { ok: true, detail: `standby (leader ${leader})` } : { ok: false, detail: 'no leader observed yet' };
        }
        const s = this.watcher.status();
        if (!s.established) return { ok: false, detail: s.active ? 'watch not established' : 'not watching' };
        const age = s.lastCheckpointAt === undefined ? Infinity : Date.now() - s.lastCheckpointAt;
        if (age > c.EVENTS_CHECKPOINT_MAX_AGE) return { ok: false, detail: `last checkpoint ${Math.round(age / 1000)} s ago` };
        return { ok: true, detail: `watching, checkpoint ${Math.round(age / 1000)} s ago, ${s.trackedEvents} events tracked` };
      },
    });
  }

  start(): void {
    const signal = this.ctl.signal;
    this.running ??= (this.elector ? this.elector.run(signal) : this.watcher.run(signal)).catch((err: unknown) => {
      this.ctx.logger.error({ err }, 'event watcher stopped unexpectedly');
    });
  }

  /** Stop intake, flush what is staged, release the Lease. Safe to call twice. */
  async stop(): Promise<void> {
    this.ctl.abort();
    await this.running;
  }
}
