import { z } from 'zod';
import { createCodec, type DecodeResult, type RecordHeaders } from '../codec.js';
import { eventRecordSchema, type EventRecord } from './event-record.js';
import { eventEmittedSchema, eventWatchPositionSchema, type EventEmitted, type EventWatchPosition } from './event-checkpoint.js';
import { heapsterEventSchema, type HeapsterEvent } from './heapster-event.js';
import { EVENT_CHECKPOINT_SCHEMA_VERSION, EVENT_RECORD_ID_HEADER, EVENT_RECORD_SCHEMA_VERSION } from './topics.js';

/** The library's codecs (see ../codec.ts): encode stamps the version, decode never throws. */
export const eventRecordCodec = createCodec('event-record', EVENT_RECORD_SCHEMA_VERSION, eventRecordSchema);
export const eventWatchPositionCodec = createCodec('event-watch-position', EVENT_CHECKPOINT_SCHEMA_VERSION, eventWatchPositionSchema);
export const eventEmittedCodec = createCodec('event-emitted', EVENT_CHECKPOINT_SCHEMA_VERSION, eventEmittedSchema);

export interface EncodedMessage {
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

/** Decode outcome with a dead-letter style reason (`decode:<why>` or `unsupported-version`). */
export type Decoded<T> = { ok: true; value: T } | { ok: false; reason: string; error: string };

function flatten<T>(result: DecodeResult<T>): Decoded<T> {
  if (result.ok) return result;
  const why = result.error.reason;
  return { ok: false, reason: why === 'unsupported-version' ? why : `decode:${why}`, error: result.error.message };
}

/** Kafka key is the event uid: all occurrences of one Event land on one partition, in order. */
export function encodeEventRecord(record: EventRecord): EncodedMessage {
  return {
    key: record.event.uid,
    value: eventRecordCodec.encode(record),
    headers: { ...eventRecordCodec.headers(), [EVENT_RECORD_ID_HEADER]: record.id },
  };
}

export const decodeEventRecord = (bytes: Buffer | string | null | undefined, headers?: RecordHeaders): Decoded<EventRecord> => flatten(eventRecordCodec.decode(bytes, headers));
export const decodeEventWatchPosition = (bytes: Buffer | string | null | undefined): Decoded<EventWatchPosition> => flatten(eventWatchPositionCodec.decode(bytes));
export const decodeEventEmitted = (bytes: Buffer | string | null | undefined): Decoded<EventEmitted> => flatten(eventEmittedCodec.decode(bytes));

/** Heapster's format has no version field: plain JSON validated against its shape. */
export function decodeHeapsterEvent(bytes: Buffer | string): Decoded<HeapsterEvent> {
  let json: unknown;
  try {
    json = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: 'decode:invalid-json', error: (err as Error).message };
  }
  const parsed = heapsterEventSchema.safeParse(json);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, reason: 'decode:invalid-record', error: z.prettifyError(parsed.error) };
}

export function encodeCheckpointValue(value: EventWatchPosition | EventEmitted): Buffer {
  return 'stream' in value ? eventWatchPositionCodec.encode(value) : eventEmittedCodec.encode(value);
}

/** JSON Schemas for consumers outside TypeScript (also published in libs/contracts/schemas/). */
export const eventJsonSchemas = {
  eventRecord: () => z.toJSONSchema(eventRecordSchema),
  eventWatchPosition: () => z.toJSONSchema(eventWatchPositionSchema),
  eventEmitted: () => z.toJSONSchema(eventEmittedSchema),
  heapsterEvent: () => z.toJSONSchema(heapsterEventSchema),
};
