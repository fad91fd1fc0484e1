import { describe, expect, it } from 'vitest';
import {
  decodeEventRecord,
  encodeEventRecord,
  eventJsonSchemas,
  eventRecordId,
  parseCheckpointKey,
  emittedKey,
  positionKey,
  EVENT_RECORD_SCHEMA_VERSION,
  type EventRecord,
} from './index.js';

const record: EventRecord = {
  schemaVersion: EVENT_RECORD_SCHEMA_VERSION,
  id: eventRecordId('u-1', 2),
  occurrence: 2,
  occurrenceCount: 2,
  inferred: false,
  occurredAt: 1_700_000_000_000,
  observedAt: 1_700_000_000_500,
  event: { uid: 'u-1', sourceApi: 'v1', count: 2, reason: 'BackOff' },
  involvedObject: { kind: 'Pod', name: 'p' },
};

describe('event record codec', () => {
  it('round-trips and keys by event uid', () => {
    const msg = encodeEventRecord(record);
    expect(msg.key).toBe('u-1');
    expect(msg.headers['heapstream-record-id']).toBe('u-1:2');
    expect(decodeEventRecord(msg.value)).toEqual({ ok: true, value: record });
  });

  it('rejects bad input with a reason', () => {
    expect(decodeEventRecord('{').ok).toBe(false);
    expect(decodeEventRecord(JSON.stringify({ ...record, schemaVersion: '2.0' }))).toMatchObject({ ok: false, reason: 'unsupported-version' });
    expect(decodeEventRecord(JSON.stringify({ ...record, occurrence: 0 }))).toMatchObject({ ok: false, reason: 'decode:invalid-record' });
  });

  it('exports a JSON Schema', () => {
    const schema = eventJsonSchemas.eventRecord() as { title?: string; required?: string[] };
    expect(schema.title).toBe('EventRecord');
    expect(schema.required).toContain('id');
  });

  it('parses checkpoint keys', () => {
    expect(parseCheckpointKey(emittedKey('a/b'))).toEqual({ kind: 'emitted', subject: 'a/b' });
    expect(parseCheckpointKey(positionKey('v1 *'))).toEqual({ kind: 'position', subject: 'v1 *' });
    expect(parseCheckpointKey('other/x')).toBeUndefined();
  });
});
