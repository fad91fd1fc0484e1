import type { ServeRecord } from './kubelet-server.js';

/** Bounded per-node log of what each kubelet answered, and notes (outages). */

export interface TruthRecord extends ServeRecord {
  skewMs: number;
  note?: string;
}

const PER_NODE = 256;

export class TruthLog {
  private readonly logs: TruthRecord[][];

  constructor(nodes: number) {
    this.logs = Array.from({ length: nodes }, () => []);
  }

  add(r: ServeRecord, skewMs: number): void {
    const log = this.logs[r.nodeIndex];
    if (!log) return;
    log.push({ ...r, skewMs });
    if (log.length > PER_NODE) log.splice(0, log.length - PER_NODE);
  }

  note(nodeIndex: number, atMs: number, note: string): void {
    this.add({ nodeIndex, atMs, path: '', status: 0, outcome: 'ok', bytes: 0 }, 0);
    const log = this.logs[nodeIndex]!;
    log[log.length - 1]!.note = note;
  }

  records(nodeIndex: number): TruthRecord[] {
    return [...(this.logs[nodeIndex] ?? [])];
  }

  /** The latest answered request for `sampleMs` on a node. */
  find(nodeIndex: number, sampleMs: number): TruthRecord | undefined {
    const log = this.logs[nodeIndex] ?? [];
    for (let i = log.length - 1; i >= 0; i--) if (log[i]!.sampleMs === sampleMs) return log[i];
    return undefined;
  }
}
