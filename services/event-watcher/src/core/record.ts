import { EVENT_RECORD_SCHEMA_VERSION, eventRecordId, type EventRecord, type WorkloadRef } from '@heapstream/contracts';
import { firstTime, latestTime, type NormalizedEvent } from './normalize.js';
import type { PlannedOccurrence } from './occurrences.js';
import { truncateUtf8 } from './truncate.js';

export interface RecordOptions {
  cluster?: string;
  /** When the watcher made the records (epoch ms). */
  observedAt: number;
  maxMessageBytes: number;
  workload?: WorkloadRef;
}

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'CronJob', 'ReplicationController']);

/** An event about a workload object is owned by that workload; others need an owner lookup. */
export function workloadOfRef(ev: NormalizedEvent): WorkloadRef | undefined {
  const { kind, name, namespace, uid, apiVersion } = ev.involvedObject;
  if (!kind || !name || !WORKLOAD_KINDS.has(kind)) return undefined;
  return strip({ kind, name, namespace, uid, apiVersion });
}

function strip<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function occurrenceTime(ev: NormalizedEvent, occurrence: number, observedAt: number): number {
  if (occurrence === 1) return firstTime(ev) ?? observedAt;
  return latestTime(ev) ?? observedAt;
}

/** One record per planned occurrence; pure, so goldens pin the exact output. */
export function buildRecords(ev: NormalizedEvent, plan: PlannedOccurrence[], opts: RecordOptions): EventRecord[] {
  if (plan.length === 0) return [];
  const message = ev.message === undefined ? undefined : truncateUtf8(ev.message, opts.maxMessageBytes);
  const event: EventRecord['event'] = strip({
    uid: ev.uid,
    namespace: ev.namespace,
    name: ev.name,
    resourceVersion: ev.resourceVersion,
    sourceApi: ev.sourceApi,
    type: ev.type,
    reason: ev.reason,
    action: ev.action,
    message: message?.text,
    messageTruncated: message?.truncated ? true : undefined,
    messageBytes: message?.truncated ? message.bytes : undefined,
    reportingController: ev.reportingController,
    reportingInstance: ev.reportingInstance,
    sourceHost: ev.sourceHost,
    count: ev.count,
    firstTimestamp: ev.firstTimestamp,
    lastTimestamp: ev.lastTimestamp,
    eventTime: ev.eventTime,
    seriesLastObservedTime: ev.seriesLastObservedTime,
    createdAt: ev.createdAt,
  });
  const workload = opts.workload ?? workloadOfRef(ev);
  return plan.map((p) =>
    strip<EventRecord>({
      schemaVersion: EVENT_RECORD_SCHEMA_VERSION,
      id: eventRecordId(ev.uid, p.occurrence),
      cluster: opts.cluster,
      occurrence: p.occurrence,
      occurrenceCount: ev.count,
      inferred: p.inferred,
      coalesced: p.coalesced,
      occurredAt: occurrenceTime(ev, p.occurrence, opts.observedAt),
      observedAt: opts.observedAt,
      event,
      involvedObject: ev.involvedObject,
      related: ev.related,
      workload,
    }),
  );
}
