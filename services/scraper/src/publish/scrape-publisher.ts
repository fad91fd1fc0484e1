import { CompressionTypes, type Message, type Producer } from 'kafkajs';
import { nodeKey, rawScrapeCodec, type RawScrape } from '@heapstream/contracts';
import { chunkBySize, DEFAULT_MAX_SEND_BYTES } from '@heapstream/kafka';

export class RecordTooLargeError extends Error {}

/** Encoded bytes that may wait for Kafka before scrapes keep their slots until acknowledged. */
export const DEFAULT_MAX_BACKLOG_BYTES = 32 * 1024 * 1024;

/**
 * Record bytes per produce call. kafkajs puts one call's records for a partition in one
 * record batch, which a default broker refuses above 1 MiB (message.max.bytes) after
 * compression: uncompressed calls stay under 1 MiB in total; compressed ones under 4 MiB
 * (raw scrapes compress 6-7x, so even one partition's share stays under the limit).
 */
export const maxSendBytesFor = (compression: CompressionTypes): number => (compression === CompressionTypes.None ? 1 : 4) * DEFAULT_MAX_SEND_BYTES;

/**
 * Publishes one record per node scrape, keyed by node (so a node's scrapes stay in
 * order on one partition). Records from concurrent scrapes are gathered for a few
 * milliseconds into one produce request; each caller learns whether its own record
 * was acknowledged.
 *
 * A caller may pass its scheduler slot: it is given back as soon as the record is
 * encoded and queued, so the next kubelet request need not wait for this record's
 * acknowledgement (at ~0.5 s under load, that wait, not the CPU, bounded the rounds).
 * While more than `maxBacklogBytes` await acknowledgement (Kafka slow or away), slots
 * are kept until the acknowledgement instead, which bounds the memory held to that
 * backlog plus the scrapes in flight.
 */
export class ScrapePublisher {
  private pending: { message: Message; bytes: number; done: (err?: unknown) => void }[] = [];
  private pendingBytes = 0;
  private timer?: NodeJS.Timeout;
  private inFlight = new Set<Promise<void>>();
  private unacknowledgedBytes = 0;
  lastAckAt?: number;

  constructor(
    private readonly producer: Producer,
    private readonly opts: { topic: string; compression: CompressionTypes; maxRecordBytes: number; lingerMs?: number; maxBatch?: number; maxBacklogBytes?: number; maxSendBytes?: number },
  ) {}

  private get maxSendBytes(): number {
    return this.opts.maxSendBytes ?? maxSendBytesFor(this.opts.compression);
  }

  /** Encoded bytes queued or sent and not yet acknowledged. */
  get backlogBytes(): number {
    return this.unacknowledgedBytes;
  }

  publish(scrape: RawScrape, slot?: { release(): void }): Promise<void> {
    return this.publishEncoded({ node: scrape.node, value: rawScrapeCodec.encode(scrape), finishedAt: scrape.scrape.finishedAt }, slot);
  }

  /** Publishes a scrape already encoded with `rawScrapeCodec` (by a scrape worker). */
  publishEncoded(record: { node: string; value: Buffer; finishedAt: number }, slot?: { release(): void }): Promise<void> {
    const { node, value, finishedAt } = record;
    if (value.length > this.opts.maxRecordBytes) {
      return Promise.reject(
        new RecordTooLargeError(`the scrape of node ${node} encodes to ${value.length} bytes, over SCRAPER_MAX_RECORD_BYTES (${this.opts.maxRecordBytes}); raise it together with the broker's message.max.bytes`),
      );
    }
    const acknowledged = new Promise<void>((resolve, reject) => {
      this.unacknowledgedBytes += value.length;
      // What is gathered goes first when this record would take the call over its byte limit.
      if (this.pendingBytes + value.length > this.maxSendBytes) this.flush();
      this.pending.push({
        message: { key: nodeKey(node), value, headers: rawScrapeCodec.headers(), timestamp: String(finishedAt) },
        bytes: value.length,
        done: (err) => {
          this.unacknowledgedBytes -= value.length;
          if (err) reject(err);
          else resolve();
        },
      });
      this.pendingBytes += value.length;
      if (this.pending.length >= (this.opts.maxBatch ?? 200)) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.opts.lingerMs ?? 20);
    });
    if (this.unacknowledgedBytes <= (this.opts.maxBacklogBytes ?? DEFAULT_MAX_BACKLOG_BYTES)) slot?.release();
    return acknowledged;
  }

  /** Sends everything gathered, in calls of at most `maxBatch` records and `maxSendBytes`. */
  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const batch of chunkBySize(pending, (p) => p.bytes, this.maxSendBytes, this.opts.maxBatch ?? 200)) this.send(batch);
  }

  private send(batch: typeof this.pending): void {
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
