import { z } from 'zod';
import { TOPICS } from '@heapstream/contracts';
import { influxConfigSchema } from '@heapstream/influx';
import { kafkaConfigSchema } from '@heapstream/kafka';
import { STORAGE_SCHEMAS } from '@heapstream/metric-model';
import { csv, durationMs } from '@heapstream/service-runtime';
import type { Route } from './encode.js';
import type { EventMeasurement } from './event-lines.js';

export const INPUTS = ['metrics', 'rollup1m', 'rollup1h', 'events'] as const;
export type Input = (typeof INPUTS)[number];

const ownSchema = z.object({
  HEAPSTREAM_STORAGE_SCHEMA: z.enum(STORAGE_SCHEMAS as ['heapster', 'wide']).default('wide').describe("wide: Heapster's withfields layout, a measurement per metric group and a field per metric (cheaper for InfluxDB); heapster: Heapster's default layout, a measurement per metric, for Heapster's own dashboards"),
  HEAPSTREAM_STORAGE_TIME: z
    .enum(['cycle', 'sample'])
    .default('cycle')
    .describe("native points' time: cycle: the start of their collection cycle, one time for every point of a cycle as Heapster wrote them (sum() per bucket is a total; one entity's blocks share a row); sample: each kubelet sample's own time"),
  HEAPSTREAM_KEEP_TAGS: csv().default([]).describe('high-cardinality tag keys to write anyway (pod_id, labels, uid, ...)'),
  HEAPSTREAM_EVENT_MEASUREMENTS: z.enum(['auto', 'events', 'log/events', 'both']).default('auto').describe('auto: log/events for heapster, events for wide'),
  HEAPSTREAM_TOPIC_PREFIX: z.string().default('').describe('prepended to every contracts topic name (tests, multi-tenant clusters)'),
  HEAPSTREAM_INPUTS: csv()
    .default([...INPUTS])
    .refine((l) => l.length > 0 && l.every((i) => (INPUTS as readonly string[]).includes(i)), `a comma-separated subset of ${INPUTS.join(',')}`),
  HEAPSTREAM_GROUP_ID: z.string().min(1).optional().describe('consumer group (default: the topic prefix + heapstream-storage-writer)'),
  HEAPSTREAM_ENSURE_TOPICS: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  HEAPSTREAM_TOPIC_PARTITIONS: z.coerce.number().int().min(1).default(6).describe('partitions of topics this service creates when missing'),
  HEAPSTREAM_FETCH_LINGER: durationMs('50ms').describe('how long a fetch may wait for HEAPSTREAM_FETCH_MIN_BYTES (the batching linger)'),
  HEAPSTREAM_FETCH_MIN_BYTES: z.coerce.number().int().min(1).default(256 * 1024),
  HEAPSTREAM_FETCH_MAX_BYTES: z.coerce.number().int().min(64 * 1024).default(1024 * 1024).describe('most record bytes one fetch brings in (bounds memory: compressed records decode to 10-50x their size)'),
  HEAPSTREAM_LAG_INTERVAL: durationMs('10s'),
  HEAPSTREAM_LAG_GROWTH_SAMPLES: z.coerce.number().int().min(2).default(6).describe('readiness fails after this many lag samples in a row each larger than the one before'),
});

export const storageWriterConfigSchema = z.intersection(z.intersection(ownSchema, kafkaConfigSchema), influxConfigSchema);
export type StorageWriterConfig = z.infer<typeof storageWriterConfigSchema>;

const ROUTES: Record<Input, Route & { topic: string }> = {
  metrics: { topic: TOPICS.metrics.name, kind: 'metrics', tier: 'raw', resolution: 'native' },
  rollup1m: { topic: TOPICS.rollup1m.name, kind: 'metrics', tier: '1m', resolution: '1m' },
  rollup1h: { topic: TOPICS.rollup1h.name, kind: 'metrics', tier: '1h', resolution: '1h' },
  events: { topic: TOPICS.events.name, kind: 'events', tier: 'raw' },
};

/** Topic name (with prefix) -> route, for the configured inputs. */
export function routesOf(c: Pick<StorageWriterConfig, 'HEAPSTREAM_INPUTS' | 'HEAPSTREAM_TOPIC_PREFIX'>): Map<string, Route> {
  return new Map(c.HEAPSTREAM_INPUTS.map((i) => {
    const { topic, ...route } = ROUTES[i as Input];
    return [c.HEAPSTREAM_TOPIC_PREFIX + topic, route];
  }));
}

export function deadLetterTopic(c: Pick<StorageWriterConfig, 'HEAPSTREAM_TOPIC_PREFIX'>): string {
  return c.HEAPSTREAM_TOPIC_PREFIX + TOPICS.deadLetter.name;
}

export function eventMeasurements(c: Pick<StorageWriterConfig, 'HEAPSTREAM_EVENT_MEASUREMENTS' | 'HEAPSTREAM_STORAGE_SCHEMA'>): EventMeasurement[] {
  switch (c.HEAPSTREAM_EVENT_MEASUREMENTS) {
    case 'events':
      return ['events'];
    case 'log/events':
      return ['log/events'];
    case 'both':
      return ['events', 'log/events'];
    default:
      return c.HEAPSTREAM_STORAGE_SCHEMA === 'wide' ? ['events'] : ['log/events'];
  }
}

/** The consumer group: explicit, or derived from the topic prefix so that prefixed pipelines on one broker stay apart. */
export const groupIdOf = (c: { HEAPSTREAM_GROUP_ID?: string | undefined; HEAPSTREAM_TOPIC_PREFIX: string }): string => c.HEAPSTREAM_GROUP_ID ?? `${c.HEAPSTREAM_TOPIC_PREFIX}heapstream-storage-writer`;
