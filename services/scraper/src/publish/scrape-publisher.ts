import type { CompressionTypes, Message, Producer } from 'kafkajs';
import { nodeKey, rawScrapeCodec, type RawScrape } from '@heapstream/contracts';

export class RecordTooLargeError extends Error {}

/**
 * Publishes one record per node scrape, keyed by node (so a node's scrapes stay in
 * order on one partition). Records from concurrent scrapes are gathered for a few
 * milliseconds into one produce request; each caller learns whether its own record
 * was acknowledged.
 */
export class ScrapePublisher {
  private pending: { message: Message; done: (err?: unknown) => void }[] = [];
  private timer?: NodeJS.Timeout;
  private inFlight = new Set<Promise<void>>();
  lastAckAt?: number;

  constructor(
    private readonly producer: Producer,
    private readonly opts: { topic: string; compression: CompressionTypes; maxRecordBytes: number; lingerMs?: number; maxBatch?: number },
  ) {}

  publish(scrape: RawScrape): Promise<void> {
    const value = rawScrapeCodec.encode(scrape);
    if (value.length > this.opts.maxRecordBytes) {
      return Promise.reject(
        new RecordTooLargeError(`the scrape of node ${scrape.node} encodes to ${value.length} bytes, over SCRAPER_MAX_RECORD_BYTES (${this.opts.maxRecordBytes}); raise it together with the broker's message.max.bytes`),
      );
    }
    return new Promise((resolve, reject) => {
      this.pending.push({
        message: { key: nodeKey(scrape.node), value, headers: rawScrapeCodec.headers(), timestamp: String(scrape.scrape.finishedAt) },
        done: (err) => (err ? reject(err) : resolve()),
      });
      if (this.pending.length >= (this.opts.maxBatch ?? 200)) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.lingerMs ?? 20);
    });
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    const sent = this.producer
      .send({ topic: this.opts.topic, compression: this.opts.compression, messages: batch.map((b) => b.message) })
      .then(
        () => {
          this.lastAckAt = Date.now();
          for (const b of batch) b.done();
        },
        (err: unknown) => {
          for (const b of batch) b.done(err);
        },
      );
    this.inFlight.add(sent);
    void sent.finally(() => this.inFlight.delete(sent));
  }

  /** Sends what is gathered and waits for every outstanding acknowledgement. */
  async drain(): Promise<void> {
    this.flush();
    await Promise.all([...this.inFlight]);
  }
}
