import { z } from 'zod';
import { TOPICS } from '@heapstream/contracts';
import { kafkaConfigSchema } from '@heapstream/kafka';
import { csv, durationMs, flag } from '@heapstream/service-runtime';
import type { ProcessorSettings } from './core/processor.js';

/** The aggregator's state topics (named with every other topic in @heapstream/contracts). */
export const AGGREGATOR_STATE_TOPIC = TOPICS.aggregatorState.name;
export const AGGREGATOR_EVENT_COUNTS_STATE_TOPIC = TOPICS.aggregatorEventCountState.name;

export const aggregatorConfigSchema = kafkaConfigSchema.extend({
  HEAPSTREAM_TOPIC_PREFIX: z.string().default('').describe('prepended to every topic name (tests, multi-tenant brokers)'),
  AGGREGATOR_GROUP_ID: z.string().min(1).default('heapstream-aggregator').describe('consumer group; the topic prefix is prepended'),
  AGGREGATOR_TRANSACTIONAL_ID: z.string().min(1).optional().describe('prefix of the per-partition transactional ids (default: the group id)'),
  AGGREGATOR_STATE_TOPIC: z.string().min(1).default(AGGREGATOR_STATE_TOPIC).describe('compacted checkpoint topic; the topic prefix is prepended'),
  AGGREGATOR_ENSURE_TOPICS: flag(true).describe('create missing output and state topics at boot (state gets the input topic partition count)'),
  AGGREGATOR_OUTPUT_PARTITIONS: z.coerce.number().int().min(1).default(6).describe('partitions of output topics this service creates'),
  AGGREGATOR_SESSION_TIMEOUT: durationMs('30s').describe('consumer group session timeout: how soon a dead instance\'s partitions move'),
  AGGREGATOR_MAX_BATCH_BYTES: z.coerce.number().int().min(1024).default(4 * 1024 * 1024).describe('max bytes fetched per partition: the most one transaction carries'),
  AGGREGATOR_SNAPSHOT_INTERVAL: durationMs('30s').describe('least time between two state snapshots per partition; a restart replays the input since the last one (0: every transaction)'),
  AGGREGATOR_EVENT_COUNTS: flag(true).describe('count Event occurrences per reason, namespace and workload per window, from the event topic'),
  AGGREGATOR_EVENT_COUNTS_STATE_TOPIC: z.string().min(1).default(AGGREGATOR_EVENT_COUNTS_STATE_TOPIC).describe('compacted checkpoint topic of the event counters; the topic prefix is prepended'),
  AGGREGATOR_EVENT_PARTITIONS: z.coerce.number().int().min(1).default(6).describe('partitions of the event topic if this service has to create it (the event-watcher normally does)'),
  HEAPSTREAM_RATE_MAX_GAP: durationMs('5m').describe('two samples further apart give no rate'),
  HEAPSTREAM_WINDOW_1M: durationMs('1m').describe('length of the "1m" windows'),
  HEAPSTREAM_WINDOW_1H: durationMs('1h').describe('length of the "1h" windows'),
  HEAPSTREAM_WINDOW_LATENESS: durationMs('30s').describe('event-time lateness a window or rollup cycle waits for; later data is counted and dropped'),
  HEAPSTREAM_ROLLUP_CYCLE: durationMs('15s').describe('nodes and pods are summed into workload, namespace and cluster per cycle of this length (the scrape interval)'),
  HEAPSTREAM_MAX_CLOCK_SKEW: durationMs('10m').describe('a scrape stamped further ahead of its Kafka time is rejected'),
  HEAPSTREAM_MAX_CPU_MILLICORES: z.coerce.number().positive().default(1_024_000).describe('cpu/usage_rate above this is impossible and dropped'),
  HEAPSTREAM_ENRICH: flag(true).describe('enrich from Pod, Node and Namespace informers; off, or on without a kubeconfig, runs Kafka-only'),
  KUBECONFIG: z.string().optional().describe('kubeconfig file; in a pod the service account is used'),
  HEAPSTREAM_POD_LABELS: csv()
    .default(['app', 'app.kubernetes.io/name', 'app.kubernetes.io/component', 'k8s-app'])
    .describe('pod labels copied into the labels tag (allow-list)'),
});

export type AggregatorConfig = z.infer<typeof aggregatorConfigSchema>;

export interface Topics {
  raw: string;
  metrics: string;
  rollup1m: string;
  rollup1h: string;
  deadLetter: string;
  state: string;
  events: string;
  eventCountsState: string;
}

export function topicsOf(c: Pick<AggregatorConfig, 'HEAPSTREAM_TOPIC_PREFIX' | 'AGGREGATOR_STATE_TOPIC' | 'AGGREGATOR_EVENT_COUNTS_STATE_TOPIC'>): Topics {
  const p = c.HEAPSTREAM_TOPIC_PREFIX;
  return {
    raw: p + TOPICS.metricsRaw.name,
    metrics: p + TOPICS.metrics.name,
    rollup1m: p + TOPICS.rollup1m.name,
    rollup1h: p + TOPICS.rollup1h.name,
    deadLetter: p + TOPICS.deadLetter.name,
    state: p + c.AGGREGATOR_STATE_TOPIC,
    events: p + TOPICS.events.name,
    eventCountsState: p + c.AGGREGATOR_EVENT_COUNTS_STATE_TOPIC,
  };
}

export const groupIdOf = (c: Pick<AggregatorConfig, 'HEAPSTREAM_TOPIC_PREFIX' | 'AGGREGATOR_GROUP_ID'>) => c.HEAPSTREAM_TOPIC_PREFIX + c.AGGREGATOR_GROUP_ID;

export function settingsOf(c: AggregatorConfig): ProcessorSettings {
  return {
    producer: 'aggregator',
    maxRateGapMs: c.HEAPSTREAM_RATE_MAX_GAP,
    windows: [
      { resolution: '1m', sizeMs: c.HEAPSTREAM_WINDOW_1M },
      { resolution: '1h', sizeMs: c.HEAPSTREAM_WINDOW_1H },
    ],
    allowedLatenessMs: c.HEAPSTREAM_WINDOW_LATENESS,
    rollupCycleMs: c.HEAPSTREAM_ROLLUP_CYCLE,
    maxClockSkewMs: c.HEAPSTREAM_MAX_CLOCK_SKEW,
    maxCpuMillicores: c.HEAPSTREAM_MAX_CPU_MILLICORES,
    allowLabels: new Set(c.HEAPSTREAM_POD_LABELS),
  };
}
