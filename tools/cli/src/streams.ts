import {
  TOPICS,
  deadLetterCodec,
  decodeEventRecord,
  metricPointBatchCodec,
  rawScrapeCodec,
  type DeadLetter,
  type EventRecord,
  type MetricPointBatch,
  type RawScrape,
} from '@heapstream/contracts';

/** A topic users can read with `heapstream tail`, with how to decode and show its records. */
export interface Stream<T> {
  topic: string;
  decode(value: Buffer): { ok: true; value: T } | { ok: false; error: string };
  /** Readable lines for one record (a batch may give many: one per point). */
  lines(value: T): string[];
  /** Flat fields that --filter key=value matches against, one set per line of `lines`. */
  fields(value: T): Record<string, string>[];
}

const iso = (ms: number) => new Date(ms).toISOString();
const tagText = (tags: Record<string, string>) => Object.entries(tags).map(([k, v]) => `${k}=${v}`).join(',');

const fromCodec =
  <T>(codec: { decode(b: Buffer): { ok: true; value: T } | { ok: false; error: Error } }) =>
  (value: Buffer) => {
    const r = codec.decode(value);
    return r.ok ? r : { ok: false as const, error: r.error.message };
  };

const raw: Stream<RawScrape> = {
  topic: TOPICS.metricsRaw.name,
  decode: fromCodec(rawScrapeCodec),
  lines: (s) => [
    `${iso(s.scrape.finishedAt)} node=${s.node} pods=${s.pods.length} containers=${s.pods.reduce((n, p) => n + p.containers.length, 0)} cpu_ns=${s.nodeStats.cpu?.usageCoreNanoSeconds ?? '-'} working_set=${s.nodeStats.memory?.workingSetBytes ?? '-'}${s.parseIssues ? ` issues=${s.parseIssues}` : ''}`,
  ],
  fields: (s) => [{ node: s.node, cluster: s.cluster }],
};

const points = (topic: string): Stream<MetricPointBatch> => ({
  topic,
  decode: fromCodec(metricPointBatchCodec),
  lines: (b) =>
    b.points.map((p) => {
      const w = p.window ? ` min=${p.window.min} max=${p.window.max} count=${p.window.count}` : '';
      return `${iso(p.timestamp)} ${p.metric} ${p.entityType} ${tagText(p.tags)} value=${p.value}${p.members !== undefined ? ` members=${p.members}` : ''}${w}`;
    }),
  // The tags by their own names, and by the short names the other streams use.
  fields: (b) =>
    b.points.map((p) => ({
      ...p.tags,
      metric: p.metric,
      type: p.entityType,
      cluster: b.cluster,
      ...(p.tags.nodename !== undefined ? { node: p.tags.nodename } : {}),
      ...(p.tags.namespace_name !== undefined ? { namespace: p.tags.namespace_name } : {}),
      ...(p.tags.pod_name !== undefined ? { pod: p.tags.pod_name } : {}),
      ...(p.tags.container_name !== undefined ? { container: p.tags.container_name } : {}),
    })),
});

const events: Stream<EventRecord> = {
  topic: TOPICS.events.name,
  decode: (value) => {
    const r = decodeEventRecord(value);
    return r.ok ? r : { ok: false, error: `${r.reason}: ${r.error}` };
  },
  lines: (e) => {
    const o = e.involvedObject;
    const what = [o.namespace ?? e.event.namespace, o.kind, o.name].filter(Boolean).join('/');
    return [`${iso(e.occurredAt)} ${e.event.type ?? '-'} ${e.event.reason ?? '-'} ${what} #${e.occurrence} ${JSON.stringify(e.event.message ?? '')}`];
  },
  fields: (e) => [{ namespace: e.involvedObject.namespace ?? e.event.namespace ?? '', kind: e.involvedObject.kind ?? '', name: e.involvedObject.name ?? '', reason: e.event.reason ?? '', type: e.event.type ?? '', id: e.id }],
};

const deadLetters: Stream<DeadLetter> = {
  topic: TOPICS.deadLetter.name,
  decode: fromCodec(deadLetterCodec),
  lines: (d) => [`${iso(d.time)} ${d.service} ${d.source.topic}/${d.source.partition}@${d.source.offset} reason=${d.reason} ${d.error}`],
  fields: (d) => [{ service: d.service, reason: d.reason, topic: d.source.topic }],
};

export const STREAMS: Record<string, Stream<never>> = {
  raw: raw as Stream<never>,
  metrics: points(TOPICS.metrics.name) as Stream<never>,
  'rollup-1m': points(TOPICS.rollup1m.name) as Stream<never>,
  'rollup-1h': points(TOPICS.rollup1h.name) as Stream<never>,
  events: events as Stream<never>,
  deadletter: deadLetters as Stream<never>,
};

/** `key=value` filters; a record passes when one of its field sets matches all of them. */
export function parseFilters(specs: string[]): [string, string][] {
  return specs.map((s) => {
    const i = s.indexOf('=');
    if (i <= 0) throw new Error(`--filter "${s}" must be key=value (e.g. node=node-1, namespace=default, reason=BackOff)`);
    return [s.slice(0, i), s.slice(i + 1)];
  });
}

export function matches(fieldSets: Record<string, string>[], filters: [string, string][]): boolean {
  return filters.length === 0 || fieldSets.some((f) => matchesOne(f, filters));
}

export function matchesOne(fields: Record<string, string>, filters: [string, string][]): boolean {
  return filters.every(([k, v]) => fields[k] === v);
}
