import { availableParallelism } from 'node:os';
import { z } from 'zod';
import { kafkaConfigSchema } from '@heapstream/kafka';
import { durationMs, flag } from '@heapstream/service-runtime';

export const ADDRESS_TYPES = ['InternalIP', 'Hostname', 'ExternalIP', 'InternalDNS', 'ExternalDNS'] as const;
export type AddressType = (typeof ADDRESS_TYPES)[number];

const saDir = '/var/run/secrets/kubernetes.io/serviceaccount';

export const scraperConfigSchema = kafkaConfigSchema
  .extend({
    KUBECONFIG: z.string().optional().describe('kubeconfig file; in a pod the service account is used'),
    HEAPSTREAM_TOPIC_PREFIX: z.string().default('').describe('prepended to every topic name (tests, multi-tenant brokers)'),
    SCRAPER_NODE_SELECTOR: z.string().optional().describe('label selector: only these nodes are scraped'),
    SCRAPER_ADDRESS_TYPES: z
      .string()
      .default('InternalIP,Hostname,ExternalIP')
      .transform((s) => s.split(',').map((t) => t.trim()).filter(Boolean))
      .pipe(z.array(z.enum(ADDRESS_TYPES, { message: `each type must be one of ${ADDRESS_TYPES.join(', ')}` })).min(1)),
    SCRAPER_INTERVAL: durationMs('15s'),
    SCRAPER_TIMEOUT: durationMs('10s').describe('per-node request deadline; must be below the interval'),
    SCRAPER_CONCURRENCY: z.coerce.number().int().min(1).max(10_000).default(64).describe('requests in flight; memory grows with it (about 3 MiB each for a 30-pod node)'),
    SCRAPER_WORKERS: z
      .union([z.literal('auto'), z.coerce.number().int().min(0).max(64)])
      .default(0)
      .transform((v) => (v === 'auto' ? defaultWorkers() : v))
      .describe('worker threads that fetch, parse and encode scrapes; 0: on the main thread (cheapest with 2 CPUs or fewer); auto: one per CPU the process may use, at most 4, and 0 with one CPU'),
    SCRAPER_JITTER: durationMs('1s').describe('node start times are spread over this much of each round'),
    SCRAPER_MAX_BODY_BYTES: z.coerce.number().int().positive().default(64 * 1024 * 1024),
    SCRAPER_MAX_RECORD_BYTES: z.coerce.number().int().positive().default(8 * 1024 * 1024).describe("the broker's message.max.bytes or less"),
    SCRAPER_SHARDING: z.enum(['group', 'static']).default('group').describe('group: replicas share nodes through a Kafka consumer group; static: index/count'),
    SCRAPER_SHARDS: z.coerce.number().int().min(1).max(4096).default(64).describe('virtual shards (partitions of the shards topic) in group mode'),
    SCRAPER_SHARD_INDEX: z.coerce.number().int().min(0).optional(),
    SCRAPER_SHARD_COUNT: z.coerce.number().int().min(1).default(1),
    POD_NAME: z.string().optional().describe('StatefulSet pod name; its ordinal is the shard index when SCRAPER_SHARD_INDEX is unset'),
    KUBELET_AUTH: z.enum(['token', 'client-cert', 'proxy']).default('token').describe('token: bearer token + CA; client-cert; proxy: through the API server'),
    KUBELET_PORT: z.coerce.number().int().min(1).max(65535).default(10250).describe("used when a Node does not report daemonEndpoints.kubeletEndpoint.Port"),
    KUBELET_TOKEN_FILE: z.string().default(`${saDir}/token`),
    KUBELET_CA_FILE: z.string().default(`${saDir}/ca.crt`),
    KUBELET_CLIENT_CERT_FILE: z.string().optional(),
    KUBELET_CLIENT_KEY_FILE: z.string().optional(),
    KUBELET_INSECURE_SKIP_VERIFY: flag(false).describe('do not verify kubelet certificates (logged as a warning)'),
  })
  .superRefine((c, ctx) => {
    if (c.SCRAPER_TIMEOUT >= c.SCRAPER_INTERVAL) {
      ctx.addIssue({ code: 'custom', path: ['SCRAPER_TIMEOUT'], message: `must be below SCRAPER_INTERVAL (${c.SCRAPER_INTERVAL / 1000} s) so rounds never overlap` });
    }
    if (c.KUBELET_AUTH === 'client-cert' && (!c.KUBELET_CLIENT_CERT_FILE || !c.KUBELET_CLIENT_KEY_FILE)) {
      ctx.addIssue({ code: 'custom', path: ['KUBELET_CLIENT_CERT_FILE'], message: 'KUBELET_AUTH=client-cert needs KUBELET_CLIENT_CERT_FILE and KUBELET_CLIENT_KEY_FILE' });
    }
    if (c.SCRAPER_SHARD_INDEX !== undefined && c.SCRAPER_SHARD_INDEX >= c.SCRAPER_SHARD_COUNT) {
      ctx.addIssue({ code: 'custom', path: ['SCRAPER_SHARD_INDEX'], message: `must be below SCRAPER_SHARD_COUNT (${c.SCRAPER_SHARD_COUNT})` });
    }
  });

/** One worker per CPU the process may use (cgroup limits included), at most 4; none on a single CPU. */
export function defaultWorkers(cpus = availableParallelism()): number {
  return cpus < 2 ? 0 : Math.min(cpus, 4);
}

export type ScraperConfig = z.infer<typeof scraperConfigSchema>;

/** Static shard index: explicit, else the StatefulSet ordinal at the end of POD_NAME, else 0. */
export function staticShardIndex(c: Pick<ScraperConfig, 'SCRAPER_SHARD_INDEX' | 'POD_NAME'>): number {
  if (c.SCRAPER_SHARD_INDEX !== undefined) return c.SCRAPER_SHARD_INDEX;
  const ordinal = c.POD_NAME ? /-(\d+)$/.exec(c.POD_NAME)?.[1] : undefined;
  return ordinal === undefined ? 0 : Number(ordinal);
}
