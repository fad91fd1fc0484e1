import { describe, expect, it } from 'vitest';
import { decide } from './decide.js';
import { eventFilter } from './filter.js';
import { EmittedLedger } from './ledger.js';
import { normalizeEvent } from './normalize.js';
import { planOccurrences } from './occurrences.js';
import { toHeapsterEvent } from './heapster.js';
import { buildRecords } from './record.js';
import { truncateUtf8 } from './truncate.js';

const coreEvent = (over: Record<string, unknown> = {}) => ({
  metadata: { name: 'p.1', namespace: 'ns', uid: 'u1', resourceVersion: '10' },
  involvedObject: { kind: 'Pod', name: 'p', namespace: 'ns', uid: 'pod-1' },
  reason: 'BackOff',
  message: 'Back-off restarting failed container',
  type: 'Warning',
  count: 1,
  firstTimestamp: '2026-01-01T00:00:00Z',
  lastTimestamp: '2026-01-01T00:00:00Z',
  ...over,
});

describe('planOccurrences', () => {
  it('emits each missing occurrence once', () => {
    expect(planOccurrences(1, 0, 100)).toEqual([{ occurrence: 1, inferred: false }]);
    expect(planOccurrences(3, 1, 100)).toEqual([
      { occurrence: 2, inferred: true },
      { occurrence: 3, inferred: false },
    ]);
    expect(planOccurrences(3, 3, 100)).toEqual([]);
    expect(planOccurrences(2, 5, 100)).toEqual([]);
  });
  it('coalesces a jump larger than the limit into one head record', () => {
    const plan = planOccurrences(1000, 0, 3);
    expect(plan).toEqual([
      { occurrence: 998, inferred: true, coalesced: 998 },
      { occurrence: 999, inferred: true },
      { occurrence: 1000, inferred: false },
    ]);
  });
});

describe('normalizeEvent', () => {
  it('takes the occurrence count from count, deprecatedCount or series', () => {
    expect(normalizeEvent(coreEvent({ count: 4 }))!.count).toBe(4);
    expect(normalizeEvent(coreEvent({ count: undefined, series: { count: 7 } }))!.count).toBe(7);
    expect(normalizeEvent({ metadata: { uid: 'x', name: 'n' }, regarding: {}, deprecatedCount: 3, series: { count: 5 } })!.count).toBe(5);
    expect(normalizeEvent(coreEvent({ count: 0 }))!.count).toBe(1);
  });
  it('derives an identity when uid is missing and rejects what has none', () => {
    expect(normalizeEvent({ metadata: { name: 'a', namespace: 'b' } })).toMatchObject({ uid: 'name:b/a', syntheticUid: true });
    expect(normalizeEvent({ metadata: {} })).toBeUndefined();
    expect(normalizeEvent(null)).toBeUndefined();
    expect(normalizeEvent('x')).toBeUndefined();
  });
  it('tolerates wrong field types', () => {
    const ev = normalizeEvent(coreEvent({ involvedObject: 'nope', count: 'many', firstTimestamp: 12, message: 5 }))!;
    expect(ev.involvedObject).toEqual({});
    expect(ev.count).toBe(1);
    expect(ev.firstTimestamp).toBeUndefined();
    expect(ev.message).toBeUndefined();
  });
});

describe('decide', () => {
  const opts = { filter: eventFilter({}), maxExpand: 100 };
  it('treats a MODIFIED without a higher count as a duplicate', () => {
    const ledger = new EmittedLedger();
    ledger.set('u1', { occurrence: 2 });
    expect(decide(coreEvent({ count: 2, message: 'edited' }), undefined, ledger, opts).kind).toBe('duplicate');
    const d = decide(coreEvent({ count: 3 }), undefined, ledger, opts);
    expect(d).toMatchObject({ kind: 'emit', plan: [{ occurrence: 3, inferred: false }] });
  });
  it('filters by type, reason and kind, ignoring case', () => {
    const f = { ...opts, filter: eventFilter({ includeTypes: ['warning'], excludeReasons: ['Pulled'], excludeKinds: ['node'] }) };
    const ledger = new EmittedLedger();
    expect(decide(coreEvent({ type: 'Normal' }), undefined, ledger, f)).toMatchObject({ kind: 'filtered', reason: 'type' });
    expect(decide(coreEvent({ reason: 'Pulled' }), undefined, ledger, f)).toMatchObject({ kind: 'filtered', reason: 'reason' });
    expect(decide(coreEvent({ involvedObject: { kind: 'Node' } }), undefined, ledger, f)).toMatchObject({ kind: 'filtered', reason: 'kind' });
    expect(decide(coreEvent(), undefined, ledger, f).kind).toBe('emit');
  });
  it('continues the occurrences of a deleted Event recreated under its name with a new uid (client-go after expiry)', () => {
    const ledger = new EmittedLedger();
    ledger.set('u1', { occurrence: 40, namespace: 'ns', name: 'p.1' });
    ledger.tombstone('u1', 1_000);
    // Recreated: new uid, count 41 -> one new occurrence, not 41.
    const d = decide(coreEvent({ metadata: { name: 'p.1', namespace: 'ns', uid: 'u2', resourceVersion: '99' }, count: 41 }), undefined, ledger, opts);
    expect(d).toMatchObject({ kind: 'emit', plan: [{ occurrence: 41, inferred: false }] });
    // The new uid takes the name over; the tombstone goes.
    expect(ledger.set('u2', { occurrence: 41, namespace: 'ns', name: 'p.1' })).toBe('u1');
    expect(ledger.has('u1')).toBe(false);
    // Another namespace, or a new Event starting again at 1 under a reused name, is its own history.
    expect(decide(coreEvent({ metadata: { name: 'p.1', namespace: 'other', uid: 'u3' }, count: 41 }), undefined, ledger, opts)).toMatchObject({ kind: 'emit', plan: { length: 41 } });
    ledger.tombstone('u2', 2_000);
    expect(decide(coreEvent({ metadata: { name: 'p.1', namespace: 'ns', uid: 'u4' }, count: 1 }), undefined, ledger, opts)).toMatchObject({ kind: 'emit', plan: [{ occurrence: 1 }] });
  });
  it('keeps tombstones out of relists and lets them expire', () => {
    const ledger = new EmittedLedger();
    ledger.set('live', { occurrence: 1, namespace: 'ns', name: 'a' });
    ledger.set('dead', { occurrence: 3, namespace: 'ns', name: 'b' });
    ledger.tombstone('dead', 1_000);
    expect(ledger.absent(new Set(), 'ns')).toEqual(['live']);
    expect(ledger.priorOccurrence('ns', 'b')).toBe(3);
    expect(ledger.priorOccurrence('ns', 'a')).toBe(0);
    expect(ledger.expired(1_000)).toEqual([]);
    expect(ledger.expired(1_001)).toEqual(['dead']);
  });
  it('back-fills only events newer than the cut-off on first start', () => {
    const ledger = new EmittedLedger();
    const from = Date.parse('2026-01-01T00:00:01Z');
    expect(decide(coreEvent(), undefined, ledger, { ...opts, backfillFrom: from }).kind).toBe('baseline');
    expect(decide(coreEvent({ lastTimestamp: '2026-01-01T00:00:05Z' }), undefined, ledger, { ...opts, backfillFrom: from }).kind).toBe('emit');
  });
});

describe('records', () => {
  it('truncates huge messages with a marker instead of dropping them', () => {
    const huge = 'é'.repeat(100_000);
    const ev = normalizeEvent(coreEvent({ message: huge }))!;
    const [r] = buildRecords(ev, [{ occurrence: 1, inferred: false }], { observedAt: 1, maxMessageBytes: 1024 });
    expect(Buffer.byteLength(r!.event.message!)).toBeLessThanOrEqual(1024);
    expect(r!.event.message).toMatch(/…\[truncated, 200000 bytes\]$/);
    expect(r!.event).toMatchObject({ messageTruncated: true, messageBytes: 200_000 });
  });
  it("cuts the Heapster-compatible event's message alike: a 2 MiB message would be over the broker's record limit", () => {
    const ev = normalizeEvent(coreEvent({ message: 'x'.repeat(2 * 2 ** 20) }))!;
    const h = toHeapsterEvent(ev, 16_384);
    const core = JSON.parse(h.EventValue) as { message: string };
    expect(Buffer.byteLength(core.message)).toBeLessThanOrEqual(16_384);
    expect(core.message).toMatch(/…\[truncated, 2097152 bytes\]$/);
    expect(Buffer.byteLength(JSON.stringify(h))).toBeLessThan(20_000);
  });
  it('gives deterministic ids and the workload for workload-kind objects', () => {
    const ev = normalizeEvent(coreEvent({ count: 2, involvedObject: { kind: 'Deployment', name: 'web', namespace: 'ns' } }))!;
    const a = buildRecords(ev, planOccurrences(2, 0, 10), { observedAt: 1, maxMessageBytes: 100 });
    const b = buildRecords(ev, planOccurrences(2, 0, 10), { observedAt: 2, maxMessageBytes: 100 });
    expect(a.map((r) => r.id)).toEqual(['u1:1', 'u1:2']);
    expect(b.map((r) => r.id)).toEqual(a.map((r) => r.id));
    expect(a[0]!.workload).toEqual({ kind: 'Deployment', name: 'web', namespace: 'ns' });
  });
  it('truncateUtf8 never splits a character', () => {
    const t = truncateUtf8('aé'.repeat(50), 40);
    expect(t.truncated).toBe(true);
    expect(Buffer.byteLength(t.text)).toBeLessThanOrEqual(40);
    expect(t.text).not.toContain('\uFFFD');
  });
});
