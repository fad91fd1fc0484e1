/** Highest occurrence already exported per event uid (plus its namespace, for pruning). */
export interface LedgerEntry {
  occurrence: number;
  namespace?: string;
}

export class EmittedLedger {
  private readonly entries = new Map<string, LedgerEntry>();

  get size(): number {
    return this.entries.size;
  }
  emitted(uid: string): number {
    return this.entries.get(uid)?.occurrence ?? 0;
  }
  has(uid: string): boolean {
    return this.entries.has(uid);
  }
  set(uid: string, entry: LedgerEntry): void {
    this.entries.set(uid, entry);
  }
  delete(uid: string): boolean {
    return this.entries.delete(uid);
  }
  /** Uids within `namespace` (undefined = all) that are not in `present`: Events that no longer exist. */
  absent(present: Set<string>, namespace?: string): string[] {
    const out: string[] = [];
    for (const [uid, e] of this.entries) if (!present.has(uid) && (namespace === undefined || e.namespace === namespace)) out.push(uid);
    return out;
  }
}
