import { rawScrapeCodec } from '@heapstream/contracts';
import { parseSummary, type ParseIssue } from '@heapstream/metric-model';
import type { KubeletTarget } from '../discovery/kubelet-target.js';
import type { KubeletClient } from './kubelet-client.js';

/** One node's scrape, ready for Kafka: the encoded raw record and what the parser skipped. */
export interface NodeRecord {
  node: string;
  /** `rawScrapeCodec` bytes of the normalized scrape. */
  value: Buffer;
  finishedAt: number;
  bodyBytes: number;
  /** Parts the parser skipped; only the first few are kept (for the log), `issueCount` has them all. */
  issues: ParseIssue[];
  issueCount: number;
}

export interface ScrapeNodeOptions {
  cluster: string;
  timeoutMs: number;
}

const KEPT_ISSUES = 5;

/**
 * Fetch, parse and encode one node's `/stats/summary`: all the per-node CPU work of a
 * scrape, in whichever thread runs it. Throws KubeletError (fetch) or ParseError (not a
 * summary); a summary with bad parts is a record with issues.
 */
export async function scrapeNode(client: KubeletClient, target: KubeletTarget, o: ScrapeNodeOptions): Promise<NodeRecord> {
  const fetched = await client.get(target, '/stats/summary', o.timeoutMs);
  const parsed = parseSummary(fetched.body, { cluster: o.cluster, node: target.node, startedAt: fetched.startedAt, finishedAt: fetched.finishedAt });
  return {
    node: target.node,
    value: rawScrapeCodec.encode(parsed.scrape),
    finishedAt: parsed.scrape.scrape.finishedAt,
    bodyBytes: fetched.body.length,
    issues: parsed.issues.slice(0, KEPT_ISSUES),
    issueCount: parsed.issues.length,
  };
}
