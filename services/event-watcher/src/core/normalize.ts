import type { ObjectRef } from '@heapstream/contracts';

export type SourceApi = 'v1' | 'events.k8s.io/v1' | 'events.k8s.io/v1beta1' | 'unknown';

/**
 * The fields of an Event that matter downstream, the same whichever API served it
 * (core/v1 `involvedObject`/`message`/`count`, events.k8s.io `regarding`/`note`/
 * `deprecatedCount`/`series`). Times are epoch milliseconds; absent stays absent.
 */
export interface NormalizedEvent {
  uid: string;
  /** true when the Event had no uid and one was derived from namespace/name. */
  syntheticUid: boolean;
  namespace?: string;
  name?: string;
  resourceVersion?: string;
  sourceApi: SourceApi;
  type?: string;
  reason?: string;
  action?: string;
  message?: string;
  reportingController?: string;
  reportingInstance?: string;
  sourceComponent?: string;
  sourceHost?: string;
  /** How many times it happened so far: max(count, deprecatedCount, series.count, 1). */
  count: number;
  firstTimestamp?: number;
  lastTimestamp?: number;
  eventTime?: number;
  seriesLastObservedTime?: number;
  createdAt?: number;
  involvedObject: ObjectRef;
  related?: ObjectRef;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const posInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : undefined);

/** RFC 3339 (any fraction digits) or a Date (typed client objects) to epoch ms. */
export function toEpochMs(v: unknown): number | undefined {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? undefined : v.getTime();
  if (typeof v !== 'string' || v === '') return undefined;
  const ms = Date.parse(v);
  // Go's zero time means "unset".
  return Number.isNaN(ms) || ms <= -62135596800000 ? undefined : ms;
}

function objectRef(v: unknown): ObjectRef {
  if (!isObject(v)) return {};
  const ref: ObjectRef = {};
  for (const key of ['kind', 'apiVersion', 'namespace', 'name', 'uid', 'resourceVersion', 'fieldPath'] as const) {
    const s = str(v[key]);
    if (s !== undefined) ref[key] = s;
  }
  return ref;
}

function detectApi(raw: Json, hint: SourceApi | undefined): SourceApi {
  const apiVersion = str(raw.apiVersion);
  if (apiVersion === 'v1' || apiVersion === 'events.k8s.io/v1' || apiVersion === 'events.k8s.io/v1beta1') return apiVersion;
  if (hint && hint !== 'unknown') return hint;
  const selfLink = str((raw.metadata as Json | undefined)?.selfLink);
  if (selfLink?.includes('/events.k8s.io/v1beta1/')) return 'events.k8s.io/v1beta1';
  if ('regarding' in raw || 'note' in raw || 'deprecatedCount' in raw || 'reportingController' in raw) return 'events.k8s.io/v1';
  if ('involvedObject' in raw || 'message' in raw || 'count' in raw || 'source' in raw) return 'v1';
  return 'unknown';
}

function drop<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * Returns undefined only when the object cannot be told apart from any other Event
 * (no uid and no name): such input is counted and skipped, never crashes the watcher.
 */
export function normalizeEvent(input: unknown, hint?: SourceApi): NormalizedEvent | undefined {
  if (!isObject(input)) return undefined;
  const raw = input;
  const meta = isObject(raw.metadata) ? raw.metadata : {};
  const sourceApi = detectApi(raw, hint);
  const isNewApi = sourceApi === 'events.k8s.io/v1' || sourceApi === 'events.k8s.io/v1beta1';
  const namespace = str(meta.namespace);
  const name = str(meta.name);
  let uid = str(meta.uid);
  const syntheticUid = uid === undefined;
  if (uid === undefined) {
    if (name === undefined) return undefined;
    uid = `name:${namespace ?? ''}/${name}`;
  }
  const series = isObject(raw.series) ? raw.series : undefined;
  const source = isObject(isNewApi ? raw.deprecatedSource : raw.source) ? ((isNewApi ? raw.deprecatedSource : raw.source) as Json) : {};
  const legacyCount = posInt(isNewApi ? raw.deprecatedCount : raw.count);
  const count = Math.max(legacyCount ?? 0, posInt(series?.count) ?? 0, 1);
  const related = isObject(raw.related) ? objectRef(raw.related) : undefined;
  return drop<NormalizedEvent>({
    uid,
    syntheticUid,
    namespace,
    name,
    resourceVersion: str(meta.resourceVersion),
    sourceApi,
    type: str(raw.type),
    reason: str(raw.reason),
    action: str(raw.action),
    message: typeof (isNewApi ? raw.note : raw.message) === 'string' ? ((isNewApi ? raw.note : raw.message) as string) : undefined,
    reportingController: str(isNewApi ? raw.reportingController : raw.reportingComponent) ?? str(source.component),
    reportingInstance: str(raw.reportingInstance),
    sourceComponent: str(source.component),
    sourceHost: str(source.host),
    count,
    firstTimestamp: toEpochMs(isNewApi ? raw.deprecatedFirstTimestamp : raw.firstTimestamp),
    lastTimestamp: toEpochMs(isNewApi ? raw.deprecatedLastTimestamp : raw.lastTimestamp),
    eventTime: toEpochMs(raw.eventTime),
    seriesLastObservedTime: toEpochMs(series?.lastObservedTime),
    createdAt: toEpochMs(meta.creationTimestamp),
    involvedObject: objectRef(isNewApi ? raw.regarding : raw.involvedObject),
    related: related && Object.keys(related).length > 0 ? related : undefined,
  });
}

/** Latest known time of the event: its last occurrence. */
export function latestTime(ev: NormalizedEvent): number | undefined {
  // creationTimestamp only when the Event carries no time of its own: an Event recreated
  // (or written late) keeps the times of what it reports.
  const candidates = [ev.seriesLastObservedTime, ev.lastTimestamp, ev.eventTime, ev.firstTimestamp].filter((t): t is number => t !== undefined);
  return candidates.length > 0 ? Math.max(...candidates) : ev.createdAt;
}

/** Earliest known time of the event: its first occurrence. */
export function firstTime(ev: NormalizedEvent): number | undefined {
  return ev.firstTimestamp ?? ev.eventTime ?? ev.createdAt ?? ev.lastTimestamp ?? ev.seriesLastObservedTime;
}
