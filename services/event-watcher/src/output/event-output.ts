import type { EncodedMessage } from '@heapstream/contracts';
import type { EmittedLedger } from '../core/ledger.js';

/** What the watcher restores at the start of every leadership term. */
export interface CheckpointState {
  /** Per list+watch stream: the resourceVersion to resume from. */
  positions: Map<string, string>;
  ledger: EmittedLedger;
  /** Checkpoint entries this version could not read (counted, then ignored). */
  unreadable: number;
}

export interface CheckpointEntry {
  key: string;
  /** null = tombstone (forget the key). */
  value: Buffer | null;
}

/** Everything one flush writes: all of it becomes visible, or none of it. */
export interface OutputBatch {
  records: EncodedMessage[];
  heapster: EncodedMessage[];
  checkpoints: CheckpointEntry[];
}

/**
 * Where records and checkpoints go. `open` must fence any older writer (a previous
 * leader) before `restore` reads, so the restored state includes everything that
 * writer committed and nothing it might still commit.
 */
export interface EventOutput {
  open(): Promise<void>;
  restore(): Promise<CheckpointState>;
  commit(batch: OutputBatch): Promise<void>;
  close(): Promise<void>;
}
