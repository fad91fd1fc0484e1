import { Worker } from 'node:worker_threads';
import type { Logger } from '@heapstream/observability';
import type { KubeletTarget } from './discovery/kubelet-target.js';
import { KubeletClient, type KubeletAccess, type KubeletClientOptions } from './kubelet/kubelet-client.js';
import { scrapeNode, type NodeRecord } from './kubelet/scrape-node.js';
import { deserializeError, type ScrapeReply, type ScrapeRequest, type ScrapeWorkerData } from './scrape-protocol.js';
import { shardOf } from './sharding/rendezvous.js';

/** Runs node scrapes (fetch, parse, encode) somewhere: on this thread or in worker threads. */
export interface NodeScraper {
  /** Resolves once it can scrape; rejects when it cannot (e.g. the CA file is unreadable). */
  ready(): Promise<void>;
  scrape(target: KubeletTarget, timeoutMs: number): Promise<NodeRecord>;
  close(): Promise<void>;
}

export interface NodeScraperOptions {
  access: KubeletAccess;
  client: KubeletClientOptions;
  cluster: string;
  /** Worker threads; 0 scrapes on the calling thread. The API-server proxy mode always does. */
  workers: number;
  logger: Pick<Logger, 'error' | 'info'>;
}

export function createNodeScraper(o: NodeScraperOptions): NodeScraper {
  if (o.workers === 0 || o.access.mode === 'proxy') return new InThreadScraper(o);
  return new WorkerPoolScraper({ ...o, access: o.access });
}

class InThreadScraper implements NodeScraper {
  private readonly client: KubeletClient;

  constructor(private readonly o: NodeScraperOptions) {
    this.client = new KubeletClient(o.access, o.client);
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  scrape(target: KubeletTarget, timeoutMs: number): Promise<NodeRecord> {
    return scrapeNode(this.client, target, { cluster: this.o.cluster, timeoutMs });
  }

  close(): Promise<void> {
    this.client.close();
    return Promise.resolve();
  }
}

/** The worker's entry beside this module: the .ts source under tsx, the bundled .js in the image. */
function workerEntry(): { url: URL; execArgv?: string[] } {
  const ts = import.meta.url.endsWith('.ts');
  const url = new URL(`./scrape.worker.${ts ? 'ts' : 'js'}`, import.meta.url);
  // A worker inherits the parent's flags; a parent without the tsx loader (vitest) lends it one.
  const hasTsx = process.execArgv.some((a) => a.includes('tsx'));
  return ts && !hasTsx ? { url, execArgv: [...process.execArgv, '--import', 'tsx'] } : { url };
}

interface Pending {
  resolve(record: NodeRecord): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  ready: Promise<void>;
}

const RESPAWN_DELAY_MS = 1_000;
/** How long past a scrape's own deadline a worker may take to answer before the scrape fails here. */
const ANSWER_GRACE_MS = 5_000;

/**
 * Scrapes in worker threads, so parsing and encoding, the bulk of a scrape's CPU, use
 * every core the scraper has while this thread schedules and talks to Kafka. A node
 * always goes to the same worker (hash of its name), so its kept-alive kubelet
 * connection is reused. A worker that dies fails its scrapes in flight and is replaced.
 */
class WorkerPoolScraper implements NodeScraper {
  private readonly slots: Slot[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly o: NodeScraperOptions & { access: ScrapeWorkerData['access'] }) {
    for (let i = 0; i < o.workers; i++) this.slots.push(this.spawn(i));
  }

  private spawn(index: number): Slot {
    const { url, execArgv } = workerEntry();
    const data: ScrapeWorkerData = { access: this.o.access, client: this.o.client, cluster: this.o.cluster };
    const worker = new Worker(url, { workerData: data, name: `scrape-${index}`, ...(execArgv ? { execArgv } : {}) });
    // Never what keeps the process alive: the scheduler's timers and Kafka do that.
    worker.unref();
    const pending = new Map<number, Pending>();
    let started = false;
    const ready = new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`scrape worker ${index} exited (code ${code}) while starting`)));
      worker.once('message', () => {
        started = true;
        resolve();
      });
    });
    ready.catch(() => undefined);
    worker.on('message', (m: ScrapeReply | 'ready') => {
      if (m === 'ready') return;
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.resolve({ ...m.record, value: Buffer.from(m.record.value.buffer, m.record.value.byteOffset, m.record.value.byteLength) });
      else p.reject(deserializeError(m.error));
    });
    worker.on('error', (err) => this.o.logger.error({ err, worker: index }, 'scrape worker failed'));
    worker.on('exit', (code) => {
      for (const p of pending.values()) p.reject(new Error(`scrape worker ${index} exited (code ${code}) during the scrape`));
      pending.clear();
      // One that never started (bad CA file, …) is not retried: ready() reports why.
      if (this.closed || !started) return;
      this.o.logger.error({ worker: index, code }, `scrape worker ${index} exited; starting a new one in ${RESPAWN_DELAY_MS} ms`);
      setTimeout(() => {
        if (!this.closed) this.slots[index] = this.spawn(index);
      }, RESPAWN_DELAY_MS).unref();
    });
    return { worker, pending, ready };
  }

  ready(): Promise<void> {
    return Promise.all(this.slots.map((s) => s.ready)).then(() => undefined);
  }

  scrape(target: KubeletTarget, timeoutMs: number): Promise<NodeRecord> {
    if (this.closed) return Promise.reject(new Error('node scraper closed'));
    const slot = this.slots[shardOf(target.node, this.slots.length)]!;
    const id = this.nextId++;
    return new Promise<NodeRecord>((resolve, reject) => {
      // The worker enforces the deadline; this one only catches a worker that stopped answering.
      const stuck = setTimeout(() => {
        slot.pending.delete(id);
        reject(new Error(`scrape worker did not answer for node ${target.node} within ${timeoutMs + ANSWER_GRACE_MS} ms`));
      }, timeoutMs + ANSWER_GRACE_MS);
      const settle = () => clearTimeout(stuck);
      slot.pending.set(id, {
        resolve: (r) => (settle(), resolve(r)),
        reject: (e) => (settle(), reject(e)),
      });
      slot.worker.postMessage({ id, target, timeoutMs } satisfies ScrapeRequest);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
