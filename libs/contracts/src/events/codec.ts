import { z } from 'zod';
import { majorOf } from '../version.js';
import { eventRecordSchema, type EventRecord } from './event-record.js';
import { eventEmittedSchema, eventWatchPositionSchema, type EventEmitted, type EventWatchPosition } from './event-checkpoint.js';
import { heapsterEventSchema, type HeapsterEvent } from './heapster-event.js';
import { EVENT_RECORD_ID_HEADER, SCHEMA_VERSION_HEADER } from './topics.js';

export interface EncodedMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: 'decode:invalid-json' | 'decode:invalid-schema' | 'unsupported-version'; error: string };

function decodeWith<T>(schema: z.ZodType<T>, bytes: Buffer | string, supportedMajor: number): Decoded<T> {
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'decode:invalid-json', error: (err as Error).message };
  }
  const version = (json as { schemaVersion?: unknown } | null)?.schemaVersion;
  if (typeof version === 'string' && majorOf(version) !== supportedMajor) {
    return { ok: false, reason: 'unsupported-version', error: `schemaVersion ${version} is not ${supportedMajor}.x` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) return { ok: false, reason: 'decode:invalid-schema', error: z.prettifyError(parsed.error) };
  return { ok: true, value: parsed.data };
}

/** Kafka key is the event uid: all occurrences of one Event land on one partition, in order. */
export function encodeEventRecord(record: EventRecord): EncodedMessage {
  return {
    key: record.event.uid,
    value: Buffer.from(JSON.stringify(record)),
    headers: { [SCHEMA_VERSION_HEADER]: record.schemaVersion, [EVENT_RECORD_ID_HEADER]: record.id },
  };
}

export const decodeEventRecord = (bytes: Buffer | string): Decoded<EventRecord> => decodeWith(eventRecordSchema, bytes, 1);
export const decodeEventWatchPosition = (bytes: Buffer | string): Decoded<EventWatchPosition> => decodeWith(eventWatchPositionSchema, bytes, 1);
export const decodeEventEmitted = (bytes: Buffer | string): Decoded<EventEmitted> => decodeWith(eventEmittedSchema, bytes, 1);
export const decodeHeapsterEvent = (bytes: Buffer | string): Decoded<HeapsterEvent> => decodeWith(heapsterEventSchema, bytes, 1);

export const encodeCheckpointValue = (value: EventWatchPosition | EventEmitted): Buffer => Buffer.from(JSON.stringify(value));

/** JSON Schemas for consumers outside TypeScript. */
export const eventJsonSchemas = {
  eventRecord: () => z.toJSONSchema(eventRecordSchema),
  eventWatchPosition: () => z.toJSONSchema(eventWatchPositionSchema),
  eventEmitted: () => z.toJSONSchema(eventEmittedSchema),
  heapsterEvent: () => z.toJSONSchema(heapsterEventSchema),
};
