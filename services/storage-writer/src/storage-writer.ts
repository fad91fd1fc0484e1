import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import { Counter, Histogram } from 'prom-client';
import { ensureTopics, isRetryableKafkaError, KafkaBatchTransport, LagMonitor, type KafkaBatch, type KafkaBatchTransportOptions } from '@heapstream/kafka';
import {
  endpointOf,
  ensureBuckets,
  ensureRetentionPolicies,
  InfluxWriteError,
  InfluxWriter,
  ping,
  tierTargets,
  type InfluxEndpoint,
  type Tier,
  type TierTarget,
  type WriteResult,
} from '@heapstream/influx';
import { retry, retryAtBoot, OnceLogger, stallCheck, type HealthRegistry, type Logger, type StageMetrics } from '@heapstream/observability';
import { deadLetterTopic, eventMeasurements, groupIdOf, routesOf, type StorageWriterConfig } from './config.js';
import { DeadLetterPublisher, type DeadLetterInput } from './dead-letters.js';
import { encodeMessages, type EncodeOptions, type Route } from './encode.js';

export const SERVICE_NAME = 'storage-writer';
const STAGE = 'influx-write';

/** The storage writer's own metrics, beside the StageMetrics every service has. */
class WriterMetrics {
  readonly linesWritten: Counter<'tier'>;
  readonly requests: Counter<'outcome'>;
  readonly retries: Counter<'kind'>;
  readonly deadLetters: Counter<'reason'>;
  readonly writeSeconds: Histogram<'outcome'>;

  constructor(stage: StageMetrics) {
    const registers = [stage.registry];
    this.linesWritten = new Counter({ name: 'heapstream_influx_lines_written_total', help: 'Lines InfluxDB acknowledged', labelNames: ['tier'], registers });
    this.requests = new Counter({ name: 'heapstream_influx_write_requests_total', help: 'Write requests by outcome (ok, rejected, too-large, retryable)', labelNames: ['outcome'], registers });
    this.retries = new Counter({ name: 'heapstream_influx_write_retries_total', help: 'Write attempts retried, by error kind', labelNames: ['kind'], registers });
    this.deadLetters = new Counter({ name: 'heapstream_dead_letters_total', help: 'Records sent to the dead-letter topic, by reason', labelNames: ['reason'], registers });
    this.writeSeconds = new Histogram({
      name: 'heapstream_influx_write_duration_seconds',
      help: 'Duration of one write request',
      labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
  }
}

/** Lets the transport create the topics and start the writer before it subscribes. */
class StartingTransport extends KafkaBatchTransport {
  constructor(options: KafkaBatchTransportOptions, private readonly before: () => Promise<void>) {
    super(options);
  }

  override async listen(callback: (err?: unknown) => void): Promise<void> {
    try {
      await this.before();
    } catch (err) {
      callback(err);
      return;
    }
    await super.listen(callback);
  }
}

/**
 * Kafka metric, rollup and event records -> InfluxDB. One Kafka batch is decoded,
 * encoded and written before the transport commits its offsets; while InfluxDB is
 * away the write is retried in place (heartbeating), so the partition pauses with one
 * batch in memory and resumes where it stopped. Records that can never be stored go
 * to the dead-letter topic with their reason and are committed past.
 */
export class StorageWriter {
  readonly routes: Map<string, Route>;
  private readonly endpoint: InfluxEndpoint;
  private readonly targets: Record<Tier, TierTarget>;
  private readonly writer: InfluxWriter;
  private readonly deadLetters: DeadLetterPublisher;
  private readonly encodeOptions: EncodeOptions;
  private readonly once: OnceLogger;
  private readonly own: WriterMetrics;
  private readonly lag: LagMonitor;
  private readonly closing = new AbortController();
  private started?: Promise<void>;
  private setup?: Promise<void>;
  private setupError?: string;
  private transportRef?: KafkaBatchTransport;
  private lastOkAt?: number;
  private lastFailAt?: number;
  private lastFailure?: string;

  constructor(
    private readonly config: StorageWriterConfig & { HEAPSTREAM_CLUSTER_NAME: string; HEAPSTREAM_LIVENESS_STALL?: number },
    private readonly kafka: Kafka,
    private readonly logger: Logger,
    private readonly metrics: StageMetrics,
    health: HealthRegistry,
  ) {
    this.routes = routesOf(config);
    this.endpoint = endpointOf(config);
    this.targets = tierTargets(config);
    this.writer = new InfluxWriter(this.endpoint, {
      maxLines: config.INFLUX_BATCH_LINES,
      maxBytes: config.INFLUX_BATCH_BYTES,
      backoff: { initialMs: 200, maxMs: config.INFLUX_RETRY_MAX_MS, jitter: 0.3 },
      precision: 'ns',
      concurrency: config.INFLUX_WRITE_CONCURRENCY,
    });
    this.deadLetters = new DeadLetterPublisher(kafka, deadLetterTopic(config), SERVICE_NAME, config);
    this.encodeOptions = {
      schema: config.HEAPSTREAM_STORAGE_SCHEMA,
      time: config.HEAPSTREAM_STORAGE_TIME,
      keepTags: config.HEAPSTREAM_KEEP_TAGS,
      clusterName: config.HEAPSTREAM_CLUSTER_NAME,
      eventMeasurements: eventMeasurements(config),
    };
    this.once = new OnceLogger(logger);
    this.own = new WriterMetrics(metrics);
    this.lag = new LagMonitor(kafka, groupIdOf(config), [...this.routes.keys()], metrics, {
      intervalMs: config.HEAPSTREAM_LAG_INTERVAL,
      growthSamples: config.HEAPSTREAM_LAG_GROWTH_SAMPLES,
      logger,
    });
    health.register({ name: 'influxdb', check: () => this.influxHealth() });
    health.register(this.lag.healthCheck());
    health.register({
      name: 'kafka-consumer',
      check: () => (this.transportRef?.isJoined ? { ok: true } : { ok: false, detail: 'not a member of the consumer group (yet)' }),
    });
    // Records waiting (the broker says so), InfluxDB not known to be failing, and no batch
    // written for this long: the writer is stuck, which a restart may clear. While InfluxDB
    // is down the writer waits for it, and a restart would not help.
    health.registerLiveness(
      stallCheck('storage-writer-progress', () => (this.lag.latest ?? 0) > 0 && !this.influxFailing(), () => this.transportRef?.lastBatchAt, config.HEAPSTREAM_LIVENESS_STALL ?? 600_000),
    );
  }

  /** The intake: one batch consumer over every input topic, committing after the write. */
  transport(): KafkaBatchTransport {
    this.transportRef ??= new StartingTransport(
      {
        kafka: this.kafka,
        groupId: groupIdOf(this.config),
        topics: [...this.routes.keys()],
        fromBeginning: true,
        commit: 'after-handler',
        logger: this.logger,
        metrics: this.metrics,
        // The linger: a fetch waits up to this long for minBytes, so small records arrive as one batch.
        // maxBytes bounds memory: a fetch's records are decoded (JSON is ~10x its gzip size) and held until written.
        consumer: {
          minBytes: this.config.HEAPSTREAM_FETCH_MIN_BYTES,
          maxWaitTimeInMs: this.config.HEAPSTREAM_FETCH_LINGER,
          maxBytes: this.config.HEAPSTREAM_FETCH_MAX_BYTES,
          maxBytesPerPartition: Math.min(this.config.HEAPSTREAM_FETCH_MAX_BYTES, 4 * 1024 * 1024),
        },
      },
      () => this.start(),
    );
    return this.transportRef;
  }

  /** Topics, dead-letter producer, InfluxDB layout (in the background), lag sampling. Idempotent. */
  start(): Promise<void> {
    return (this.started ??= (async () => {
      // Kafka may still be starting (a topic created a moment ago has no leader yet): wait for it.
      await retryAtBoot(
        'storage-writer topics and dead-letter producer',
        async () => {
          if (this.config.HEAPSTREAM_ENSURE_TOPICS) {
            await ensureTopics(this.kafka, [...this.routes.keys(), deadLetterTopic(this.config)].map((name) => ({ name, partitions: this.config.HEAPSTREAM_TOPIC_PARTITIONS })));
          }
          await this.deadLetters.connect();
        },
        { isRetryable: isRetryableKafkaError, logger: this.logger, signal: this.closing.signal },
      );
      void this.ensureSchema().catch(() => undefined);
      this.lag.start();
    })());
  }

  /** Database and retention policies (1.x) or buckets (2.x), retried until they exist; re-run after a 404. */
  ensureSchema(again = false): Promise<void> {
    if (again) this.setup = undefined;
    return (this.setup ??= (async () => {
      if (!this.config.INFLUX_SETUP) return;
      const targets = Object.values(this.targets);
      const changes = await retry(
        async () =>
          this.config.INFLUX_DATABASE
            ? (await ensureRetentionPolicies(this.endpoint, targets)).map((c) => ({ name: `${c.database}.${c.retentionPolicy}`, ...c }))
            : (await ensureBuckets(this.endpoint, targets)).map((c) => ({ name: c.bucket, ...c })),
        {
          isRetryable: () => !this.closing.signal.aborted,
          signal: this.closing.signal,
          backoff: { initialMs: 500, maxMs: this.config.INFLUX_RETRY_MAX_MS, jitter: 0.3 },
          onRetry: (err) => {
            this.setupError = (err as Error).message;
            this.once.warn('influx-setup', 'failing', { err: this.setupError }, 'InfluxDB database/retention setup failing; retrying');
          },
        },
      );
      this.setupError = undefined;
      this.once.recovered('influx-setup');
      for (const c of changes.filter((c) => c.action !== 'unchanged')) this.logger.info({ change: c }, `retention of ${c.name} ${c.action}`);
    })());
  }

  async handle(batch: KafkaBatch): Promise<void> {
    await this.start();
    const route = this.routes.get(batch.topic);
    if (!route) throw new Error(`storage-writer: no route for topic ${batch.topic}`);
    const started = performance.now();
    const letters: DeadLetterInput[] = [];
    // Slices of a few requests' worth of lines: a fetch of well-compressed records can
    // hold hundreds of thousands of points, which need not all be in memory at once.
    const sliceLines = this.config.INFLUX_BATCH_LINES * Math.max(2, this.config.INFLUX_WRITE_CONCURRENCY);
    for (let from = 0; from < batch.messages.length; ) {
      const encoded = encodeMessages(batch.messages, route, this.encodeOptions, from, sliceLines);
      from = encoded.next;
      this.metrics.received.inc({ stage: STAGE }, encoded.items);
      const result = await this.writeSlice(batch, route, encoded.lines);
      this.own.linesWritten.inc({ tier: route.tier }, result.written);
      this.metrics.sent.inc({ stage: STAGE }, result.written);
      this.metrics.batchSize.observe({ stage: STAGE }, encoded.lines.length);
      letters.push(...encoded.rejections.map((r) => ({ topic: batch.topic, partition: batch.partition, message: batch.messages[r.message]!, reason: r.reason, error: r.error })));
      // Bad lines, grouped by the record they came from: one dead letter per record.
      const byMessage = new Map<number, typeof result.rejected>();
      for (const r of result.rejected) {
        const owner = encoded.lineOwner[r.index]!;
        byMessage.set(owner, [...(byMessage.get(owner) ?? []), r]);
      }
      for (const [owner, bad] of byMessage) {
        const lines = bad.slice(0, 3).map((b) => encoded.lines[b.index]!.slice(0, 300));
        letters.push({
          topic: batch.topic,
          partition: batch.partition,
          message: batch.messages[owner]!,
          reason: bad[0]!.reason,
          error: `${bad.length} line(s) rejected by InfluxDB: ${bad[0]!.error}; line(s): ${lines.join(' | ')}`,
        });
      }
    }
    if (letters.length) {
      await this.deadLetters.publish(letters);
      for (const l of letters) {
        this.own.deadLetters.inc({ reason: l.reason });
        this.metrics.discarded.inc({ stage: STAGE, reason: l.reason });
        this.once.warn(batch.topic, l.reason, { partition: batch.partition, offset: l.message.offset, error: l.error.slice(0, 500) }, 'record dead-lettered');
      }
    }
    this.metrics.duration.observe({ stage: STAGE }, (performance.now() - started) / 1000);
  }

  /** One slice: wait for the InfluxDB layout, write, heartbeat meanwhile; abandon when the partition goes. */
  private async writeSlice(batch: KafkaBatch, route: Route, lines: string[]): Promise<WriteResult> {
    const guard = this.guard(batch);
    try {
      await Promise.race([this.ensureSchema(), guard.aborted]);
      return lines.length ? await this.write(this.targets[route.tier], lines, guard.signal) : { written: 0, rejected: [], requests: 0 };
    } catch (err) {
      throw guard.heartbeatError() ?? err;
    } finally {
      guard.stop();
    }
  }

  private async write(target: TierTarget, lines: string[], signal: AbortSignal): Promise<WriteResult> {
    try {
      const result = await this.writer.write(target.bucket, lines, {
        signal,
        onNotFound: () => this.ensureSchema(true),
        onRequest: (outcome, seconds) => {
          this.own.requests.inc({ outcome });
          this.own.writeSeconds.observe({ outcome }, seconds);
          if (outcome === 'ok' || outcome === 'rejected') this.lastOkAt = Date.now();
        },
        onRetry: (err, attempt, delayMs) => {
          const kind = err instanceof InfluxWriteError ? err.kind : 'network';
          this.lastFailAt = Date.now();
          this.lastFailure = (err as Error).message;
          this.own.retries.inc({ kind });
          this.metrics.errors.inc({ stage: STAGE, type: kind });
          this.once.warn('influx-write', kind, { err: this.lastFailure, attempt, delayMs }, 'InfluxDB write failed; pausing this partition and retrying (offsets not committed)');
        },
      });
      if (this.lastFailAt !== undefined) {
        this.once.recovered('influx-write');
        if ((this.lastOkAt ?? 0) > this.lastFailAt) this.lastFailAt = undefined;
      }
      return result;
    } catch (err) {
      if (!signal.aborted) this.logger.error({ err }, 'InfluxDB write failed permanently; the batch will be redelivered');
      throw err;
    }
  }

  /** Aborts the write when the partition moves away, the consumer stops, or heartbeats fail; heartbeats meanwhile. */
  private guard(batch: KafkaBatch) {
    const ac = new AbortController();
    let hbError: unknown;
    let lastBeat = Date.now();
    const onClose = () => ac.abort();
    this.closing.signal.addEventListener('abort', onClose);
    const timer = setInterval(() => {
      if (!batch.isRunning()) return ac.abort();
      if (Date.now() - lastBeat >= 3_000) {
        lastBeat = Date.now();
        batch.heartbeat().catch((err: unknown) => {
          hbError = err;
          ac.abort();
        });
      }
    }, 250);
    timer.unref();
    const aborted = new Promise<never>((_, reject) => ac.signal.addEventListener('abort', () => reject(new Error('write abandoned: partition revoked or consumer stopping')), { once: true }));
    aborted.catch(() => undefined);
    return {
      signal: ac.signal,
      aborted,
      heartbeatError: () => hbError,
      stop: () => {
        clearInterval(timer);
        this.closing.signal.removeEventListener('abort', onClose);
      },
    };
  }

  private async influxHealth(): Promise<{ ok: boolean; detail?: string }> {
    if (this.setupError) return { ok: false, detail: `setup failing: ${this.setupError}` };
    if (this.influxFailing()) return { ok: false, detail: `writes failing: ${this.lastFailure}` };
    return ping(this.endpoint);
  }

  /** The database setup or the latest write failed (and nothing succeeded since). */
  private influxFailing(): boolean {
    return this.setupError !== undefined || (this.lastFailAt !== undefined && this.lastFailAt > (this.lastOkAt ?? 0));
  }

  /** After the transport closed: stop retrying, sampling and publishing. Safe twice. */
  async close(): Promise<void> {
    this.closing.abort();
    this.lag.stop();
    await this.deadLetters.close();
    await sleep(0);
  }
}
