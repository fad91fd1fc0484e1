/** One record to write for an event: which occurrence it is and how it was known. */
export interface PlannedOccurrence {
  occurrence: number;
  /** Not observed on its own: the count jumped past it between two observations. */
  inferred: boolean;
  /** Present when this one record stands for several occurrences (see `maxExpand`). */
  coalesced?: number;
}

/**
 * The occurrences of an event not yet emitted: `emitted + 1 … count`, one each, so
 * that every occurrence number is written exactly once whatever was observed in
 * between. A jump larger than `maxExpand` (an old event with a huge count seen for
 * the first time) writes its oldest part as one coalesced record instead of
 * thousands of copies.
 */
export function planOccurrences(count: number, emitted: number, maxExpand: number): PlannedOccurrence[] {
  if (count <= emitted) return [];
  const out: PlannedOccurrence[] = [];
  let from = emitted + 1;
  const missing = count - emitted;
  if (missing > maxExpand) {
    const head = count - maxExpand + 1;
    out.push({ occurrence: head, inferred: true, coalesced: head - emitted });
    from = head + 1;
  }
  for (let n = from; n <= count; n++) out.push({ occurrence: n, inferred: n < count });
  if (out.length > 0 && out[0]!.coalesced === 1) delete out[0]!.coalesced;
  return out;
}
