import { ParseError } from '@heapstream/metric-model';
import type { KubeletTarget } from './discovery/kubelet-target.js';
import type { KubeletAccess, KubeletClientOptions } from './kubelet/kubelet-client.js';
import { KubeletError, type KubeletFailure } from './kubelet/kubelet-error.js';
import type { NodeRecord } from './kubelet/scrape-node.js';

/* The messages between the scraper's main thread and its scrape workers (node-scrapers.ts, scrape.worker.ts). */

/** What a scrape worker is started with (structured-cloned into it). */
export interface ScrapeWorkerData {
  access: Exclude<KubeletAccess, { mode: 'proxy' }>;
  client: KubeletClientOptions;
  cluster: string;
}

export interface ScrapeRequest {
  id: number;
  target: KubeletTarget;
  timeoutMs: number;
}

/** A worker's answer; a record's bytes arrive as a transferred ArrayBuffer. */
export type ScrapeReply =
  | { id: number; ok: true; record: Omit<NodeRecord, 'value'> & { value: Uint8Array } }
  | { id: number; ok: false; error: SerializedError };

export type SerializedError =
  | { kind: 'kubelet'; node: string; failure: KubeletFailure; detail: string; status?: number }
  | { kind: 'parse' | 'other'; message: string };

export function serializeError(err: unknown): SerializedError {
  if (err instanceof KubeletError) return { kind: 'kubelet', node: err.node, failure: err.failure, detail: err.detail, ...(err.status !== undefined ? { status: err.status } : {}) };
  return { kind: err instanceof ParseError ? 'parse' : 'other', message: err instanceof Error ? err.message : String(err) };
}

export function deserializeError(e: SerializedError): Error {
  switch (e.kind) {
    case 'kubelet':
      return new KubeletError(e.node, e.failure, e.detail, e.status);
    case 'parse':
      return new ParseError(e.message);
    default:
      return new Error(e.message);
  }
}
