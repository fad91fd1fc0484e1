/**
 * Highest occurrence already exported per event uid, with the Event's namespace (for
 * pruning) and name; `deletedAt` marks an Event the API server deleted, kept a while as a
 * tombstone (see `priorOccurrence`).
 */
export interface LedgerEntry {
  occurrence: number;
  namespace?: string;
  name?: string;
  deletedAt?: number;
}

const nameKey = (namespace: string | undefined, name: string) => `${namespace ?? ''}/${name}`;

/**
 * What the event-watcher has exported. An Event deleted by the API server (its TTL) is
 * kept as a tombstone for a while: client-go recreates an expired Event under the same
 * name with a new uid and `count` = the old count + 1, and that is one new occurrence of
 * the same history, not `count` new ones.
 */
export class EmittedLedger {
  private readonly entries = new Map<string, LedgerEntry>();
  /** namespace/name -> uid of the entry that last had the name. */
  private readonly byName = new Map<string, string>();
  /** Uids of the tombstones. */
  private readonly tombstones = new Set<string>();

  get size(): number {
    return this.entries.size;
  }
  emitted(uid: string): number {
    return this.entries.get(uid)?.occurrence ?? 0;
  }
  has(uid: string): boolean {
    return this.entries.has(uid);
  }
  get(uid: string): LedgerEntry | undefined {
    return this.entries.get(uid);
  }

  /**
   * Sets the uid's entry. Returns the uid of a tombstone this entry's name takes over (its
   * history now continues under `uid`), which the caller forgets; undefined otherwise.
   */
  set(uid: string, entry: LedgerEntry): string | undefined {
    this.entries.set(uid, entry);
    if (entry.deletedAt !== undefined) this.tombstones.add(uid);
    else this.tombstones.delete(uid);
    if (entry.name === undefined) return undefined;
    const key = nameKey(entry.namespace, entry.name);
    const previous = this.byName.get(key);
    this.byName.set(key, uid);
    if (previous === undefined || previous === uid || !this.tombstones.has(previous)) return undefined;
    this.delete(previous);
    return previous;
  }

  delete(uid: string): boolean {
    const entry = this.entries.get(uid);
    if (!entry) return false;
    this.entries.delete(uid);
    this.tombstones.delete(uid);
    if (entry.name !== undefined) {
      const key = nameKey(entry.namespace, entry.name);
      if (this.byName.get(key) === uid) this.byName.delete(key);
    }
    return true;
  }

  /** Marks the uid's Event deleted at `at`; returns the tombstone, or undefined when unknown. */
  tombstone(uid: string, at: number): LedgerEntry | undefined {
    const entry = this.entries.get(uid);
    if (!entry || entry.deletedAt !== undefined) return undefined;
    const dead = { ...entry, deletedAt: at };
    this.set(uid, dead);
    return dead;
  }

  /**
   * The highest occurrence exported under this name by an Event since deleted: where a
   * recreated Event with a new uid continues. 0 when there is none.
   */
  priorOccurrence(namespace: string | undefined, name: string): number {
    const uid = this.byName.get(nameKey(namespace, name));
    return uid !== undefined && this.tombstones.has(uid) ? (this.entries.get(uid)?.occurrence ?? 0) : 0;
  }

  /** Tombstones of Events deleted before `before`: nothing will continue them any more. */
  expired(before: number): string[] {
    const out: string[] = [];
    for (const uid of this.tombstones) if ((this.entries.get(uid)?.deletedAt ?? 0) < before) out.push(uid);
    return out;
  }

  /** Live uids within `namespace` (undefined = all) that are not in `present`: Events that no longer exist. */
  absent(present: Set<string>, namespace?: string): string[] {
    const out: string[] = [];
    for (const [uid, e] of this.entries) if (e.deletedAt === undefined && !present.has(uid) && (namespace === undefined || e.namespace === namespace)) out.push(uid);
    return out;
  }
}
