import { z } from 'zod';
import { epochMs, nonEmpty, uint } from '../primitives.js';

/** Value of key `position/<stream>`: where a list+watch stream resumes. */
export const eventWatchPositionSchema = z
  .object({
    schemaVersion: z.string().regex(/^1\.\d+$/),
    stream: nonEmpty.describe('which list+watch, e.g. `events.k8s.io/v1 *` or `v1 ns-a`'),
    resourceVersion: nonEmpty,
    updatedAt: epochMs,
  })
  .meta({ title: 'EventWatchPosition', description: 'Resume position of one event list+watch stream' });

/** Value of key `emitted/<event uid>`: the highest occurrence already written. */
export const eventEmittedSchema = z
  .object({
    schemaVersion: z.string().regex(/^1\.\d+$/),
    occurrence: uint.describe('highest occurrence number emitted (or deliberately skipped by the first-start cut-off)'),
    namespace: z.string().optional().describe("the Event's namespace, so a per-namespace relist forgets only its own"),
    name: z.string().optional().describe("since 1.1: the Event's name, so an Event recreated under it with a new uid continues its occurrences"),
    deletedAt: epochMs.optional().describe('since 1.1: when the API server deleted the Event; the entry is kept a while as a tombstone for a recreation'),
    updatedAt: epochMs,
  })
  .meta({ title: 'EventEmitted', description: 'Highest occurrence of one Event already exported' });

export type EventWatchPosition = z.infer<typeof eventWatchPositionSchema>;
export type EventEmitted = z.infer<typeof eventEmittedSchema>;

export const positionKey = (stream: string): string => `position/${stream}`;
export const emittedKey = (eventUid: string): string => `emitted/${eventUid}`;

/** Splits a checkpoint key into its kind and subject; undefined for keys this version does not know. */
export function parseCheckpointKey(key: string): { kind: 'position' | 'emitted'; subject: string } | undefined {
  const slash = key.indexOf('/');
  if (slash < 0) return undefined;
  const kind = key.slice(0, slash);
  if (kind !== 'position' && kind !== 'emitted') return undefined;
  return { kind, subject: key.slice(slash + 1) };
}
