import { EVENT_WATCHER_CHECKPOINT_TOPIC, EVENTS_TOPIC, HEAPSTER_EVENTS_TOPIC } from './events/topics.js';

/*
 * Every Kafka topic heapstream reads or writes. The trailing `.vN` is the major schema
 * version of the records on it: a breaking change gets a new topic, so old and new
 * consumers can run side by side during an upgrade.
 */

export interface TopicSpec {
  readonly name: string;
  /** What the record key is, in words; the matching function below builds it. */
  readonly key: string;
  /** JSON Schema files under libs/contracts/schemas/ describing the values. */
  readonly schemaFiles: readonly string[];
  readonly cleanupPolicy: 'delete' | 'compact';
}

export const TOPICS = {
  metricsRaw: {
    name: 'heapstream.metrics.raw.v1',
    key: 'node name',
    schemaFiles: ['raw-scrape.v1.json'],
    cleanupPolicy: 'delete',
  },
  metrics: {
    name: 'heapstream.metrics.v2',
    key: 'node name of the scrape the points came from; rollups of several nodes use rollupKey',
    schemaFiles: ['metric-points.v2.json'],
    cleanupPolicy: 'delete',
  },
  rollup1m: {
    name: 'heapstream.metrics.rollup.1m.v2',
    key: 'rollupKey(entity the batch is about)',
    schemaFiles: ['metric-points.v2.json'],
    cleanupPolicy: 'delete',
  },
  rollup1h: {
    name: 'heapstream.metrics.rollup.1h.v2',
    key: 'rollupKey(entity the batch is about)',
    schemaFiles: ['metric-points.v2.json'],
    cleanupPolicy: 'delete',
  },
  // The event topics are named with their schemas in src/events/ (event-watcher).
  events: {
    name: EVENTS_TOPIC,
    key: 'event uid',
    schemaFiles: ['event-record.v1.json'],
    cleanupPolicy: 'delete',
  },
  heapsterEvents: {
    name: HEAPSTER_EVENTS_TOPIC,
    key: 'event uid',
    schemaFiles: ['heapster-event.json'],
    cleanupPolicy: 'delete',
  },
  deadLetter: {
    name: 'heapstream.deadletter.v1',
    key: 'the original record key, unchanged',
    schemaFiles: ['dead-letter.v1.json'],
    cleanupPolicy: 'delete',
  },
  // Internal state of the services: listed so operators know them, not a contract to consume.
  aggregatorState: {
    name: 'heapstream.state.aggregator.v1',
    key: '<raw partition>/meta or <raw partition>/<owner> (node/<name> or a rollup key)',
    schemaFiles: [],
    cleanupPolicy: 'compact',
  },
  aggregatorEventCountState: {
    name: 'heapstream.state.aggregator-events.v1',
    key: '<event partition>/event-counts',
    schemaFiles: [],
    cleanupPolicy: 'compact',
  },
  scraperShards: {
    name: 'heapstream.scraper.shards.v1',
    key: 'none: no records; its partitions are the virtual shards the scraper group divides',
    schemaFiles: [],
    cleanupPolicy: 'delete',
  },
  eventWatcherState: {
    name: EVENT_WATCHER_CHECKPOINT_TOPIC,
    key: 'position/<stream> or emitted/<event uid>',
    schemaFiles: ['event-watch-position.v1.json', 'event-emitted.v1.json'],
    cleanupPolicy: 'compact',
  },
} as const satisfies Record<string, TopicSpec>;

export type TopicId = keyof typeof TOPICS;
export const ALL_TOPIC_NAMES: readonly string[] = Object.values(TOPICS).map((t) => t.name);

/** Raw and native metric records: one node's data stays in order on one partition. */
export function nodeKey(node: string): string {
  return node;
}

/** Rollup batches: `cluster`, `ns/<namespace>`, `node/<node>` or `workload/<ns>/<kind>/<name>`. */
export function rollupKey(scope: 'cluster' | 'ns' | 'node' | 'workload', ...names: string[]): string {
  return [scope, ...names].join('/');
}
