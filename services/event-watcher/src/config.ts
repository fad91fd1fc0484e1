import { z } from 'zod';
import { kafkaConfigSchema } from '@heapstream/kafka';
import { csv, durationMs, flag } from '@heapstream/service-runtime';

const list = () => csv().default([]);

export const eventWatcherConfigSchema = kafkaConfigSchema.extend({
  KUBECONFIG: z.string().optional().describe('kubeconfig file; in a pod the service account is used'),
  HEAPSTREAM_TOPIC_PREFIX: z.string().default('').describe('prepended to every topic name (tests, multi-tenant brokers)'),
  EVENTS_API: z.enum(['auto', 'events.k8s.io/v1', 'v1']).default('auto').describe('auto: events.k8s.io/v1 when the server serves it, else core v1'),
  EVENTS_NAMESPACES: list().describe('comma-separated namespaces to watch; empty watches all namespaces'),
  EVENTS_FIELD_SELECTOR: z.string().optional().describe('server-side field selector, e.g. type=Warning'),
  EVENTS_LABEL_SELECTOR: z.string().optional(),
  EVENTS_INCLUDE_TYPES: list(),
  EVENTS_EXCLUDE_TYPES: list(),
  EVENTS_INCLUDE_REASONS: list(),
  EVENTS_EXCLUDE_REASONS: list(),
  EVENTS_INCLUDE_KINDS: list().describe('involved-object kinds to keep (e.g. Pod,Node); empty keeps all'),
  EVENTS_EXCLUDE_KINDS: list(),
  EVENTS_BACKFILL_MAX_AGE: z
    .string()
    .default('all')
    .transform((v, ctx) => {
      if (v.trim() === 'all') return undefined;
      const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
      if (!m) {
        ctx.addIssue({ code: 'custom', message: 'expected "all" or a duration like 0s, 30m, 1h' });
        return z.NEVER;
      }
      return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h']);
    })
    .describe('first start only: export Events that last happened within this age ("all" = every Event the API still has)'),
  EVENTS_MAX_MESSAGE_BYTES: z.coerce.number().int().min(256).default(16_384).describe('longer messages are cut, with a marker'),
  EVENTS_MAX_EXPAND: z.coerce.number().int().min(1).default(100).describe('a count jump larger than this writes one coalesced record for the oldest part'),
  EVENTS_RECREATED_WITHIN: durationMs('1h').describe('a deleted Event is remembered this long: one recreated under its name (client-go does after expiry) continues its occurrences'),
  EVENTS_HEAPSTER_COMPAT: flag(false).describe("also write Heapster's Kafka event format to heapster-events"),
  EVENTS_RESOLVE_WORKLOADS: flag(true).describe('look up the owning workload of the involved object'),
  EVENTS_PARTITIONS: z.coerce.number().int().min(1).default(6).describe('partitions of the events topic when this service creates it'),
  EVENTS_FLUSH_INTERVAL: durationMs('200ms'),
  EVENTS_MAX_BATCH: z.coerce.number().int().min(1).max(10_000).default(500),
  EVENTS_CHECKPOINT_INTERVAL: durationMs('15s').describe('positions are re-committed at least this often'),
  EVENTS_CHECKPOINT_MAX_AGE: durationMs('60s').describe('/readyz fails when the last checkpoint commit is older'),
  EVENTS_WATCH_SILENCE: durationMs('90s').describe('a watch with no data for this long is restarted'),
  EVENTS_WATCH_TIMEOUT: durationMs('5m').describe('server-side watch timeout before a routine reconnect'),
  EVENT_WATCHER_TRANSACTIONAL_ID: z.string().min(1).optional().describe('shared by all replicas (default heapstream-event-watcher-<cluster>)'),
  LEADER_ELECTION: flag(true).describe('run as one leader plus standbys through a coordination.k8s.io Lease'),
  LEASE_NAMESPACE: z.string().min(1).optional().describe('namespace of the Lease (default POD_NAMESPACE, else default)'),
  LEASE_NAME: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS subdomain name (lowercase letters, digits, - and .)')
    .max(253)
    .optional()
    .describe('default: heapstream-event-watcher, after HEAPSTREAM_TOPIC_PREFIX so pipelines sharing a namespace do not share a Lease'),
  LEASE_DURATION: durationMs('15s'),
  LEASE_RENEW_DEADLINE: durationMs('10s'),
  LEASE_RETRY_PERIOD: durationMs('2s'),
  POD_NAME: z.string().optional(),
  POD_NAMESPACE: z.string().optional(),
}).superRefine((c, ctx) => {
  if (c.LEASE_RENEW_DEADLINE >= c.LEASE_DURATION) ctx.addIssue({ code: 'custom', path: ['LEASE_RENEW_DEADLINE'], message: `must be below LEASE_DURATION (${c.LEASE_DURATION / 1000} s)` });
  if (c.LEASE_RETRY_PERIOD >= c.LEASE_RENEW_DEADLINE) ctx.addIssue({ code: 'custom', path: ['LEASE_RETRY_PERIOD'], message: `must be below LEASE_RENEW_DEADLINE (${c.LEASE_RENEW_DEADLINE / 1000} s)` });
});

export type EventWatcherConfig = z.infer<typeof eventWatcherConfigSchema>;

/** The Lease name: explicit, else the topic prefix plus heapstream-event-watcher, made a valid name. */
export function leaseName(c: Pick<EventWatcherConfig, 'LEASE_NAME' | 'HEAPSTREAM_TOPIC_PREFIX'>): string {
  if (c.LEASE_NAME) return c.LEASE_NAME;
  const raw = `${c.HEAPSTREAM_TOPIC_PREFIX}heapstream-event-watcher`.toLowerCase().replace(/[^a-z0-9.-]+/g, '-');
  return raw.replace(/^[^a-z0-9]+/, '').slice(-253);
}
