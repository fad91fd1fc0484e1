import { z } from 'zod';
import { epochMs, nonEmpty } from '../primitives.js';

/** A reference to a Kubernetes object as an Event carries it; every field may be missing. */
export const objectRefSchema = z.object({
  kind: z.string().optional(),
  apiVersion: z.string().optional(),
  namespace: z.string().optional(),
  name: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  fieldPath: z.string().optional(),
});

export const workloadRefSchema = z.object({
  kind: nonEmpty.describe('top controller: Deployment, StatefulSet, DaemonSet, Job, CronJob, ReplicaSet, ...'),
  apiVersion: z.string().optional(),
  namespace: z.string().optional(),
  name: nonEmpty,
  uid: z.string().optional(),
});

export const eventRecordSchema = z
  .object({
    schemaVersion: z.string().regex(/^1\.\d+$/),
    id: nonEmpty.describe('`<event uid>:<occurrence>`: the same occurrence always gets the same id'),
    cluster: z.string().optional(),
    occurrence: z.number().int().min(1).describe('1 for the first time the event happened, n for its n-th repeat'),
    occurrenceCount: z.number().int().min(1).describe('the count the event showed when this record was made'),
    inferred: z
      .boolean()
      .describe('true when the count jumped past this occurrence, so it was not observed on its own; its time is approximate'),
    coalesced: z
      .number()
      .int()
      .min(2)
      .optional()
      .describe('present when this record stands for this many occurrences (a jump larger than the expansion limit)'),
    occurredAt: epochMs.describe('best known time of this occurrence'),
    observedAt: epochMs.describe('when the watcher made the record'),
    event: z.object({
      uid: nonEmpty,
      namespace: z.string().optional(),
      name: z.string().optional(),
      resourceVersion: z.string().optional(),
      sourceApi: z.enum(['v1', 'events.k8s.io/v1', 'events.k8s.io/v1beta1', 'unknown']),
      type: z.string().optional().describe('Normal or Warning (free text in practice)'),
      reason: z.string().optional(),
      action: z.string().optional(),
      message: z.string().optional(),
      messageTruncated: z.boolean().optional().describe('true when message was cut to the size limit'),
      messageBytes: z.number().int().optional().describe('original UTF-8 size of a truncated message'),
      reportingController: z.string().optional(),
      reportingInstance: z.string().optional(),
      sourceHost: z.string().optional(),
      count: z.number().int().min(1),
      firstTimestamp: epochMs.optional(),
      lastTimestamp: epochMs.optional(),
      eventTime: epochMs.optional(),
      seriesLastObservedTime: epochMs.optional(),
      createdAt: epochMs.optional(),
    }),
    involvedObject: objectRefSchema.describe('`involvedObject` (core/v1) or `regarding` (events.k8s.io); may be empty'),
    related: objectRefSchema.optional(),
    workload: workloadRefSchema.optional().describe('the owning workload of the involved object, where known'),
  })
  .meta({ title: 'EventRecord', description: 'One occurrence of a Kubernetes Event' });

export type ObjectRef = z.infer<typeof objectRefSchema>;
export type WorkloadRef = z.infer<typeof workloadRefSchema>;
export type EventRecord = z.infer<typeof eventRecordSchema>;

/** The deterministic id of an occurrence: replays and a second writer produce the same one. */
export function eventRecordId(eventUid: string, occurrence: number): string {
  return `${eventUid}:${occurrence}`;
}
