import type { FilterVerdict } from './filter.js';
import type { EmittedLedger } from './ledger.js';
import { latestTime, normalizeEvent, type NormalizedEvent, type SourceApi } from './normalize.js';
import { planOccurrences, type PlannedOccurrence } from './occurrences.js';

export type Decision =
  | { kind: 'invalid' }
  | { kind: 'filtered'; ev: NormalizedEvent; reason: 'type' | 'reason' | 'kind' }
  | { kind: 'duplicate'; ev: NormalizedEvent }
  /** First start: an Event older than the back-fill window is remembered without being exported. */
  | { kind: 'baseline'; ev: NormalizedEvent }
  | { kind: 'emit'; ev: NormalizedEvent; plan: PlannedOccurrence[] };

export interface DecideOptions {
  filter: (ev: NormalizedEvent) => FilterVerdict;
  maxExpand: number;
  /** Only during a first-start list: Events whose latest time is before this are not back-filled. */
  backfillFrom?: number;
}

/**
 * What to do with one observed Event (ADDED, MODIFIED or listed). A MODIFIED that did
 * not raise the count is a duplicate, so are replays after a restart or relist.
 */
export function decide(raw: unknown, hint: SourceApi | undefined, ledger: EmittedLedger, opts: DecideOptions): Decision {
  const ev = normalizeEvent(raw, hint);
  if (!ev) return { kind: 'invalid' };
  const verdict = opts.filter(ev);
  if (!verdict.keep) return { kind: 'filtered', ev, reason: verdict.reason };
  let emitted = ledger.emitted(ev.uid);
  if (!ledger.has(ev.uid) && ev.name !== undefined) {
    // An Event recreated under a deleted one's name (client-go does so when the old one
    // expired) continues that history: its count is the old count + 1, not new occurrences.
    const prior = ledger.priorOccurrence(ev.namespace, ev.name);
    if (prior > 0 && ev.count > prior) emitted = prior;
  }
  if (opts.backfillFrom !== undefined && !ledger.has(ev.uid)) {
    const t = latestTime(ev);
    if (t !== undefined && t < opts.backfillFrom) return { kind: 'baseline', ev };
  }
  const plan = planOccurrences(ev.count, emitted, opts.maxExpand);
  return plan.length === 0 ? { kind: 'duplicate', ev } : { kind: 'emit', ev, plan };
}
