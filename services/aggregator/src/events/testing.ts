import { eventRecordSchema, type EventRecord } from '@heapstream/contracts';

let uid = 0;
/** A schema-valid record of one occurrence of `reason` in namespace `ns` (workload optional), observed at `at`. */
export function occurrence(at: number, reason: string, o: { ns?: string; workload?: string; type?: string; coalesced?: number; occurredAt?: number } = {}): EventRecord {
  const id = `uid-${++uid}`;
  return eventRecordSchema.parse({
    schemaVersion: '1.0',
    id: `${id}:1`,
    cluster: 'test',
    occurrence: 1,
    occurrenceCount: o.coalesced ?? 1,
    inferred: false,
    ...(o.coalesced ? { coalesced: o.coalesced } : {}),
    occurredAt: o.occurredAt ?? at,
    observedAt: at,
    event: { uid: id, sourceApi: 'v1', type: o.type ?? 'Warning', reason, count: 1, ...(o.ns ? { namespace: o.ns } : {}) },
    involvedObject: o.ns ? { kind: 'Pod', namespace: o.ns, name: 'p' } : { kind: 'Node', name: 'n1' },
    ...(o.workload ? { workload: { kind: 'Deployment', name: o.workload, namespace: o.ns } } : {}),
  });
}

