import { z } from 'zod';
import { epochMs, nonEmpty, uint } from './primitives.js';

/** Payload bytes as text: utf8 when they were valid UTF-8, base64 otherwise. */
export const payloadSchema = z.object({
  encoding: z.enum(['utf8', 'base64']),
  data: z.string(),
});

export const deadLetterSchema = z
  .object({
    schemaVersion: z.string().regex(/^1\.\d+$/),
    source: z.object({ topic: nonEmpty, partition: uint, offset: z.string().regex(/^\d+$/).describe('Kafka offset (int64 as string)') }),
    key: payloadSchema.nullable(),
    value: payloadSchema.nullable(),
    reason: nonEmpty.describe('short machine-readable reason, e.g. decode:invalid-json, influx:field-type-conflict'),
    error: z.string().describe('human-readable error message'),
    time: epochMs.describe('when the record was dead-lettered'),
    service: nonEmpty.describe('service that gave up on the record'),
  })
  .meta({ title: 'DeadLetter', description: 'A record a service could not process, with where it came from and why' });

export type Payload = z.infer<typeof payloadSchema>;
export type DeadLetter = z.infer<typeof deadLetterSchema>;

/** Bytes -> payload: utf8 when the bytes round-trip through UTF-8, else base64. */
export function toPayload(bytes: Buffer | null | undefined): Payload | null {
  if (bytes == null) return null;
  const text = bytes.toString('utf8');
  return Buffer.from(text, 'utf8').equals(bytes) ? { encoding: 'utf8', data: text } : { encoding: 'base64', data: bytes.toString('base64') };
}

export function fromPayload(payload: Payload | null): Buffer | null {
  if (payload === null) return null;
  return Buffer.from(payload.data, payload.encoding);
}
