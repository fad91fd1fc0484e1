import type { HeapsterEvent } from '@heapstream/contracts';
import { latestTime, type NormalizedEvent } from './normalize.js';
import { truncateUtf8 } from './truncate.js';

const iso = (ms: number | undefined): string | null => (ms === undefined ? null : new Date(ms).toISOString().replace('.000Z', 'Z'));

/**
 * Heapster's Kafka events message. Heapster sent the core/v1 Event itself, so an
 * events.k8s.io Event is shown in its core/v1 form (the API server's own mapping). The
 * message is cut to `maxMessageBytes` with a marker, like the event topic's: an Event
 * whose message is over the broker's record limit would otherwise fail every
 * transaction it is in, and the events behind it would wait forever.
 */
export function toHeapsterEvent(ev: NormalizedEvent, maxMessageBytes: number): HeapsterEvent {
  const core = {
    metadata: { name: ev.name, namespace: ev.namespace, uid: ev.syntheticUid ? undefined : ev.uid, resourceVersion: ev.resourceVersion, creationTimestamp: iso(ev.createdAt) },
    involvedObject: ev.involvedObject,
    reason: ev.reason,
    message: ev.message === undefined ? undefined : truncateUtf8(ev.message, maxMessageBytes).text,
    source: { component: ev.sourceComponent, host: ev.sourceHost },
    firstTimestamp: iso(ev.firstTimestamp),
    lastTimestamp: iso(ev.lastTimestamp),
    count: ev.count,
    type: ev.type,
    eventTime: ev.eventTime === undefined ? null : new Date(ev.eventTime).toISOString(),
    action: ev.action,
    related: ev.related,
    reportingComponent: ev.reportingController ?? '',
    reportingInstance: ev.reportingInstance ?? '',
  };
  const tags: Record<string, string> = { eventID: ev.uid };
  if (ev.involvedObject.kind === 'Pod') {
    tags.pod_id = ev.involvedObject.uid ?? '';
    tags.pod_name = ev.involvedObject.name ?? '';
  }
  tags.hostname = ev.sourceHost ?? '';
  return {
    EventValue: JSON.stringify(core, null, ' '),
    EventTimestamp: new Date(ev.lastTimestamp ?? latestTime(ev) ?? 0).toISOString(),
    EventTags: tags,
  };
}
