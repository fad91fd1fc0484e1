import { createKafka, KafkaBatchTransport } from '@heapstream/kafka';
import type { ServiceDefinition } from '@heapstream/service-runtime';
import { aggregatorModule, type Lifecycle } from './aggregator.module.js';
import { aggregatorConfigSchema, groupIdOf, settingsOf, topicsOf } from './config.js';
import { AggregatorEngine } from './engine.js';
import { createMetadata } from './enrichment/informers.js';
import { EventCountEngine } from './events/event-count-engine.js';

type Ctx = Parameters<ServiceDefinition<typeof aggregatorConfigSchema>['module']>[0];

interface Built {
  engine: AggregatorEngine;
  groupId: string;
  raw: string;
  lifecycle: Lifecycle | null;
  /** Event-derived counters: their own consumer group on the event topic. */
  eventCounts: { engine: EventCountEngine; groupId: string; topic: string } | null;
}

/** module() and transports() are called with the same context: build the engine once. */
const engines = new WeakMap<object, Built>();

function build(ctx: Ctx): Built {
  let built = engines.get(ctx);
  if (built) return built;
  const { config, logger, metrics } = ctx;
  const topics = topicsOf(config);
  const groupId = groupIdOf(config);
  const metadata = createMetadata(config, logger);
  const transactionalIdPrefix = config.HEAPSTREAM_TOPIC_PREFIX + (config.AGGREGATOR_TRANSACTIONAL_ID ?? config.AGGREGATOR_GROUP_ID);
  const engine = new AggregatorEngine({
    kafka: createKafka(config, logger, 'heapstream-aggregator'),
    kafkaConfig: config,
    topics,
    groupId,
    transactionalIdPrefix,
    snapshotIntervalMs: config.AGGREGATOR_SNAPSHOT_INTERVAL,
    livenessStallMs: config.HEAPSTREAM_LIVENESS_STALL,
    settings: settingsOf(config),
    ...(metadata ? { metadata: metadata.source } : {}),
    logger,
    metrics,
    ...(config.AGGREGATOR_ENSURE_TOPICS ? { ensureTopics: { outputPartitions: config.AGGREGATOR_OUTPUT_PARTITIONS } } : {}),
  });
  const eventCounts = config.AGGREGATOR_EVENT_COUNTS
    ? {
        engine: new EventCountEngine({
          kafka: createKafka(config, logger, 'heapstream-aggregator-events'),
          kafkaConfig: config,
          topics: { events: topics.events, rollup1m: topics.rollup1m, rollup1h: topics.rollup1h, deadLetter: topics.deadLetter, state: topics.eventCountsState },
          transactionalIdPrefix,
          settings: { producer: 'aggregator', windows: settingsOf(config).windows, allowedLatenessMs: config.HEAPSTREAM_WINDOW_LATENESS, cluster: config.HEAPSTREAM_CLUSTER_NAME },
          logger,
          metrics,
          ...(config.AGGREGATOR_ENSURE_TOPICS ? { ensureTopics: { eventPartitions: config.AGGREGATOR_EVENT_PARTITIONS } } : {}),
        }),
        groupId: `${groupId}.events`,
        topic: topics.events,
      }
    : null;
  built = { engine, groupId, raw: topics.raw, lifecycle: metadata ?? null, eventCounts };
  engines.set(ctx, built);
  return built;
}

export const aggregatorService: ServiceDefinition<typeof aggregatorConfigSchema> = {
  name: 'aggregator',
  configSchema: aggregatorConfigSchema,
  module(ctx) {
    const b = build(ctx);
    return aggregatorModule(b.raw, b.engine, b.lifecycle, b.eventCounts);
  },
  transports(_app, ctx) {
    const { groupId, raw, eventCounts } = build(ctx);
    const consumerOf = (group: string, topic: string, clientId: string) =>
      new KafkaBatchTransport({
        kafka: createKafka(ctx.config, ctx.logger, clientId),
        groupId: group,
        topics: [topic],
        fromBeginning: true,
        commit: 'by-handler',
        logger: ctx.logger,
        metrics: ctx.metrics,
        // Only committed input (a transactional producer upstream must not leak aborted records).
        consumer: {
          readUncommitted: false,
          sessionTimeout: ctx.config.AGGREGATOR_SESSION_TIMEOUT,
          heartbeatInterval: Math.max(500, Math.floor(ctx.config.AGGREGATOR_SESSION_TIMEOUT / 10)),
          maxBytesPerPartition: ctx.config.AGGREGATOR_MAX_BATCH_BYTES,
          maxBytes: Math.max(ctx.config.AGGREGATOR_MAX_BATCH_BYTES, 1024 * 1024),
        },
      });
    return [
      consumerOf(groupId, raw, 'heapstream-aggregator-consumer'),
      ...(eventCounts ? [consumerOf(eventCounts.groupId, eventCounts.topic, 'heapstream-aggregator-events-consumer')] : []),
    ];
  },
};
