import { SCHEMA_VERSION_HEADER } from '../version.js';

/** One record per Kubernetes Event occurrence, keyed by event uid. */
export const EVENTS_TOPIC = 'heapstream.events.v1';

/**
 * Compacted: the event-watcher's resume state. Key `position/<stream>` holds the
 * watch position of one list+watch stream; key `emitted/<event uid>` holds the highest
 * occurrence emitted for that event (a tombstone forgets it once the Event is gone).
 */
export const EVENT_WATCHER_CHECKPOINT_TOPIC = 'heapstream.event-watcher.checkpoints.v1';

/** Heapster's Kafka events sink topic, written only when compatibility output is on. */
export const HEAPSTER_EVENTS_TOPIC = 'heapster-events';

export const EVENT_RECORD_SCHEMA_VERSION = '1.0';
export const EVENT_CHECKPOINT_SCHEMA_VERSION = '1.1';

/** Kafka header carrying the record id, so consumers can drop duplicates without decoding. */
export const EVENT_RECORD_ID_HEADER = 'heapstream-record-id';
export { SCHEMA_VERSION_HEADER };
