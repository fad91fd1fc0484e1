import { KubeHttp, ListWatch, type ListWatchStatus } from '@heapstream/kube';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '@heapstream/observability';
import type { AddressType } from '../config.js';
import { kubeletTarget, type KubeletTarget } from './kubelet-target.js';

/**
 * The set of nodes to scrape, kept current by a list+watch on Nodes (optionally
 * label-selected). Nodes without a usable address are remembered with the reason.
 */
export class NodeDirectory {
  private readonly targets = new Map<string, KubeletTarget>();
  private readonly unaddressable = new Set<string>();
  private abort?: AbortController;
  private running?: Promise<void>;
  private synced = false;
  lastStatus?: ListWatchStatus;

  constructor(
    private readonly kc: KubeConfig,
    private readonly opts: { labelSelector?: string; addressTypes: readonly AddressType[]; defaultPort: number; logger: Logger },
  ) {}

  get hasSynced(): boolean {
    return this.synced;
  }

  list(): KubeletTarget[] {
    return [...this.targets.values()];
  }

  get(node: string): KubeletTarget | undefined {
    return this.targets.get(node);
  }

  async start(): Promise<void> {
    const http = await KubeHttp.create(this.kc);
    this.abort = new AbortController();
    const upsert = (obj: unknown) => {
      const target = kubeletTarget(obj as never, this.opts.addressTypes, this.opts.defaultPort);
      const name = (obj as { metadata?: { name?: string } }).metadata?.name;
      if (!name) return;
      if (target) {
        this.targets.set(name, target);
        this.unaddressable.delete(name);
      } else {
        this.targets.delete(name);
        if (!this.unaddressable.has(name)) {
          this.unaddressable.add(name);
          this.opts.logger.warn({ node: name, addressTypes: this.opts.addressTypes }, 'node has no address of the preferred types (SCRAPER_ADDRESS_TYPES); not scraped');
        }
      }
    };
    const watch = new ListWatch({
      http,
      path: '/api/v1/nodes',
      ...(this.opts.labelSelector ? { labelSelector: this.opts.labelSelector } : {}),
      onStatus: (s) => {
        this.lastStatus = s;
        if (s.type === 'watch-ended' && s.reason !== 'closed') this.opts.logger.warn({ reason: s.reason, err: s.error?.message }, 'node watch ended; resuming');
      },
      handler: {
        onSnapshot: async (items) => {
          this.targets.clear();
          this.unaddressable.clear();
          items.forEach(upsert);
          this.synced = true;
        },
        onEvent: async (type, obj) => {
          if (type === 'DELETED') {
            const name = (obj as { metadata?: { name?: string } }).metadata?.name;
            if (name) this.targets.delete(name);
          } else upsert(obj);
        },
        onBookmark: async () => undefined,
      },
    });
    this.running = watch.run(this.abort.signal).catch((err: unknown) => {
      if (!this.abort?.signal.aborted) this.opts.logger.error({ err }, 'node discovery stopped');
    });
  }

  async stop(): Promise<void> {
    this.abort?.abort();
    await this.running;
  }
}
