import { Partitioners, type Kafka, type Producer } from 'kafkajs';
import { Gauge, Counter, Histogram } from 'prom-client';
import type { KubeConfig } from '@kubernetes/client-node';
import { TOPICS } from '@heapstream/contracts';
import { compressionOf, ensureTopics, isRetryableKafkaError } from '@heapstream/kafka';
import { ParseError } from '@heapstream/metric-model';
import { OnceLogger, retryAtBoot, stallCheck, type HealthRegistry, type Logger, type StageMetrics } from '@heapstream/observability';
import { staticShardIndex, type ScraperConfig } from './config.js';
import { NodeDirectory } from './discovery/node-directory.js';
import type { KubeletTarget } from './discovery/kubelet-target.js';
import type { KubeletAccess } from './kubelet/kubelet-client.js';
import { KubeletError } from './kubelet/kubelet-error.js';
import { createNodeScraper, type NodeScraper } from './node-scrapers.js';
import { RecordTooLargeError, ScrapePublisher } from './publish/scrape-publisher.js';
import { RoundScheduler, type ConcurrencySlot, type RoundReport } from './schedule/round-scheduler.js';
import { GroupOwnership, StaticOwnership, type NodeOwnership } from './sharding/ownership.js';

/** The shards topic is only a membership device: its partitions are the virtual shards. */
export const SHARDS_TOPIC = TOPICS.scraperShards.name;

export interface ScraperDeps {
  config: ScraperConfig & { HEAPSTREAM_CLUSTER_NAME: string; HEAPSTREAM_LIVENESS_STALL?: number };
  kubeConfig: KubeConfig;
  kafka: Kafka;
  logger: Logger;
  metrics: StageMetrics;
  health: HealthRegistry;
}

/**
 * Discovers nodes, scrapes the ones this replica owns every interval and publishes
 * one raw record per node scrape. Plain class; the Nest module only starts and stops it.
 */
export class Scraper {
  private readonly directory: NodeDirectory;
  private readonly ownership: NodeOwnership;
  private readonly nodeScraper: NodeScraper;
  private readonly scheduler: RoundScheduler<KubeletTarget>;
  private readonly once: OnceLogger;
  private producer?: Producer;
  private publisher?: ScrapePublisher;
  private readonly lastSuccess = new Map<string, number>();
  private lastRound?: RoundReport;
  private readonly stage = 'scrape';
  private readonly topic: string;
  private readonly scrapes: Counter<'result'>;
  private readonly roundDuration: Histogram;
  private stopping?: Promise<void>;

  constructor(private readonly deps: ScraperDeps) {
    const { config, logger, metrics, kafka } = deps;
    this.topic = config.HEAPSTREAM_TOPIC_PREFIX + TOPICS.metricsRaw.name;
    this.once = new OnceLogger(logger);
    this.directory = new NodeDirectory(deps.kubeConfig, {
      ...(config.SCRAPER_NODE_SELECTOR ? { labelSelector: config.SCRAPER_NODE_SELECTOR } : {}),
      addressTypes: config.SCRAPER_ADDRESS_TYPES,
      defaultPort: config.KUBELET_PORT,
      logger,
    });
    this.ownership =
      config.SCRAPER_SHARDING === 'static'
        ? new StaticOwnership(staticShardIndex(config), config.SCRAPER_SHARD_COUNT)
        : new GroupOwnership(kafka, { topic: config.HEAPSTREAM_TOPIC_PREFIX + SHARDS_TOPIC, groupId: `${config.HEAPSTREAM_TOPIC_PREFIX}heapstream-scraper-${config.HEAPSTREAM_CLUSTER_NAME}`, shards: config.SCRAPER_SHARDS, logger });
    this.nodeScraper = createNodeScraper({
      access: this.access(),
      client: { maxBodyBytes: config.SCRAPER_MAX_BODY_BYTES, maxSockets: config.SCRAPER_CONCURRENCY },
      cluster: config.HEAPSTREAM_CLUSTER_NAME,
      workers: config.SCRAPER_WORKERS,
      logger,
    });
    this.scheduler = new RoundScheduler<KubeletTarget>({
      intervalMs: config.SCRAPER_INTERVAL,
      jitterMs: config.SCRAPER_JITTER,
      concurrency: config.SCRAPER_CONCURRENCY,
      targets: () => (this.ownership.ready() ? this.directory.list().filter((t) => this.ownership.owns(t.node)) : []),
      scrape: (target, _roundStart, slot) => this.scrapeOne(target, slot),
      onRound: (report) => this.onRound(report),
    });

    const registers = [metrics.registry];
    this.scrapes = new Counter({ name: 'heapstream_scraper_scrapes_total', help: 'Node scrapes by result (ok or the failure cause)', labelNames: ['result'], registers });
    this.roundDuration = new Histogram({ name: 'heapstream_scraper_round_duration_seconds', help: 'From the aligned round start to the last node done', buckets: [0.1, 0.25, 0.5, 1, 2, 4, 7.5, 10, 15, 30], registers });
    const lastSuccess = this.lastSuccess;
    new Gauge({
      name: 'heapstream_scraper_last_success_age_seconds',
      help: 'Seconds since the last good scrape of each node this replica owns',
      labelNames: ['node'],
      registers,
      collect() {
        this.reset();
        const now = Date.now();
        for (const [node, at] of lastSuccess) this.set({ node }, (now - at) / 1000);
      },
    });
    const directory = this.directory;
    const ownership = this.ownership;
    new Gauge({
      name: 'heapstream_scraper_nodes',
      help: 'Nodes known from the API server, and owned by this replica',
      labelNames: ['state'],
      registers,
      collect() {
        const all = directory.list();
        this.set({ state: 'known' }, all.length);
        this.set({ state: 'owned' }, ownership.ready() ? all.filter((t) => ownership.owns(t.node)).length : 0);
      },
    });
  }

  private access(): KubeletAccess {
    const c = this.deps.config;
    if (c.KUBELET_INSECURE_SKIP_VERIFY && c.KUBELET_AUTH !== 'proxy') {
      this.deps.logger.warn('KUBELET_INSECURE_SKIP_VERIFY=true: kubelet certificates are NOT verified; anyone on the path can read and forge metrics');
    }
    switch (c.KUBELET_AUTH) {
      case 'proxy':
        return { mode: 'proxy', kubeConfig: this.deps.kubeConfig };
      case 'client-cert':
        return { mode: 'client-cert', certFile: c.KUBELET_CLIENT_CERT_FILE!, keyFile: c.KUBELET_CLIENT_KEY_FILE!, caFile: c.KUBELET_INSECURE_SKIP_VERIFY ? undefined : c.KUBELET_CA_FILE, insecureSkipVerify: c.KUBELET_INSECURE_SKIP_VERIFY };
      default:
        return { mode: 'token', tokenFile: c.KUBELET_TOKEN_FILE, caFile: c.KUBELET_INSECURE_SKIP_VERIFY ? undefined : c.KUBELET_CA_FILE, insecureSkipVerify: c.KUBELET_INSECURE_SKIP_VERIFY };
    }
  }

  async start(): Promise<void> {
    await this.nodeScraper.ready();
    // Retriable broker errors at boot (a topic created a moment ago has no leader yet, a
    // broker restarting) are retried with backoff instead of failing the service.
    await retryAtBoot('scraper topics and producer', () => this.connectKafka(), { isRetryable: isRetryableKafkaError, logger: this.deps.logger });
    await this.directory.start();
    this.scheduler.start();
    this.registerHealth();
  }

  private async connectKafka(): Promise<void> {
    const { config, kafka } = this.deps;
    await this.ownership.stop();
    await this.producer?.disconnect().catch(() => undefined);
    await ensureTopics(kafka, [
      // Broker time on the raw records: the aggregator's clock-skew guard compares a
      // scrape's finishedAt with it, which this replica's clock must not decide.
      { name: this.topic, partitions: 12, logAppendTime: true },
      ...(config.SCRAPER_SHARDING === 'group' ? [{ name: config.HEAPSTREAM_TOPIC_PREFIX + SHARDS_TOPIC, partitions: config.SCRAPER_SHARDS }] : []),
    ]);
    // Java-compatible murmur2 partitioning, so other clients keying by node agree; an idempotent
    // producer must keep retrying (kafkajs warns otherwise): the scheduler skips nodes still publishing.
    this.producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false, createPartitioner: Partitioners.DefaultPartitioner, retry: { retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 30_000 } });
    await this.producer.connect();
    this.publisher = new ScrapePublisher(this.producer, { topic: this.topic, compression: compressionOf(config), maxRecordBytes: config.SCRAPER_MAX_RECORD_BYTES });
    await this.ownership.start();
  }

  private registerHealth(): void {
    const { config, health } = this.deps;
    const interval = config.SCRAPER_INTERVAL;
    health.register({ name: 'node-discovery', check: () => ({ ok: this.directory.hasSynced, detail: this.directory.hasSynced ? `${this.directory.list().length} nodes` : 'node list not synced yet' }) });
    health.register({ name: 'sharding', check: () => ({ ok: this.ownership.ready(), detail: this.ownership.describe() }) });
    // Rounds start every interval and finish however their nodes fare: none finished for
    // this long while there are nodes is a wedged scheduler, which a restart may clear.
    health.registerLiveness(
      stallCheck('scrape-rounds', () => this.directory.hasSynced && this.directory.list().length > 0, () => (this.lastRound ? this.lastRound.roundStart + this.lastRound.durationMs : undefined), config.HEAPSTREAM_LIVENESS_STALL ?? 600_000),
    );
    health.register({
      name: 'scrapes-flowing',
      check: () => {
        const r = this.lastRound;
        if (!r) return { ok: false, detail: 'no round finished yet' };
        if (Date.now() - r.roundStart > 3 * interval) return { ok: false, detail: `last round ${Math.round((Date.now() - r.roundStart) / 1000)} s ago` };
        if (r.scheduled > 0 && r.succeeded === 0) return { ok: false, detail: `all ${r.scheduled} nodes failed in the last round` };
        if (r.scheduled > 0 && (this.publisher?.lastAckAt ?? 0) < Date.now() - 3 * interval) return { ok: false, detail: 'no record acknowledged by Kafka recently' };
        return { ok: true, detail: `${r.succeeded}/${r.scheduled} nodes in ${r.durationMs} ms` };
      },
    });
  }

  /** One node: fetch, parse, publish. Throws so the round counts a failure; never affects other nodes. */
  private async scrapeOne(target: KubeletTarget, slot: ConcurrencySlot): Promise<void> {
    const { config, metrics, logger } = this.deps;
    const started = process.hrtime.bigint();
    let scraped = false;
    try {
      const record = await this.nodeScraper.scrape(target, config.SCRAPER_TIMEOUT);
      scraped = true;
      metrics.received.inc({ stage: this.stage });
      if (record.issueCount > 0) {
        metrics.discarded.inc({ stage: this.stage, reason: 'invalid-part' }, record.issueCount);
        this.once.warn(target.node, 'parse-issues', { node: target.node, issues: record.issues, total: record.issueCount }, 'kubelet summary had invalid parts; they were skipped');
      }
      await this.publisher!.publishEncoded(record, slot);
      metrics.sent.inc({ stage: this.stage });
      this.scrapes.inc({ result: 'ok' });
      this.lastSuccess.set(target.node, Date.now());
      this.once.recovered(target.node);
    } catch (err) {
      // A body that is not a summary was still received (the worker parsed it).
      if (err instanceof ParseError) metrics.received.inc({ stage: this.stage });
      const cause =
        err instanceof KubeletError ? err.failure
        : err instanceof ParseError ? 'invalid-payload'
        : err instanceof RecordTooLargeError ? 'record-too-large'
        : scraped ? 'publish-failed'
        : 'scrape-failed'; // neither the kubelet nor its body: e.g. a scrape worker died
      this.scrapes.inc({ result: cause });
      metrics.errors.inc({ stage: this.stage, type: cause });
      this.once.warn(target.node, cause, { node: target.node, address: `${target.host}:${target.port}`, cause }, (err as Error).message);
      if (cause === 'publish-failed' || cause === 'scrape-failed') logger.debug({ err }, cause);
      throw err;
    } finally {
      metrics.duration.observe({ stage: 'scrape-node' }, Number(process.hrtime.bigint() - started) / 1e9);
    }
  }

  private onRound(report: RoundReport): void {
    this.lastRound = report;
    this.roundDuration.observe(report.durationMs / 1000);
    // Forget nodes that left the cluster or this replica, so the age gauge stays bounded.
    for (const node of this.lastSuccess.keys()) {
      const t = this.directory.get(node);
      if (!t || !this.ownership.owns(node)) this.lastSuccess.delete(node);
    }
    this.deps.logger.debug({ ...report }, 'scrape round done');
  }

  /** Intake first (discovery, schedule, shard membership), then flush what was scraped. Idempotent. */
  stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      await this.scheduler.stop();
      await this.directory.stop();
      await this.ownership.stop();
      await this.publisher?.drain();
      await this.producer?.disconnect();
      await this.nodeScraper.close();
    })());
  }
}
