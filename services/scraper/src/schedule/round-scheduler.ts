import { shardOf } from '../sharding/rendezvous.js';

export interface RoundReport {
  /** Aligned start of the round (epoch ms). */
  roundStart: number;
  scheduled: number;
  succeeded: number;
  failed: number;
  /** Nodes whose previous scrape was still running, so they sat this round out. */
  skipped: number;
  /** From the aligned start to the last node's completion. */
  durationMs: number;
}

/** A scrape's place among the `concurrency` allowed at once. */
export interface ConcurrencySlot {
  /**
   * Frees the place before the scrape's promise settles, e.g. once the kubelet answer
   * is parsed and only the Kafka acknowledgement is awaited. Idempotent; the scheduler
   * releases it anyway when the scrape settles.
   */
  release(): void;
}

export interface RoundSchedulerOptions<T extends { node: string }> {
  intervalMs: number;
  jitterMs: number;
  concurrency: number;
  targets(): T[];
  scrape(target: T, roundStart: number, slot: ConcurrencySlot): Promise<void>;
  onRound?(report: RoundReport): void;
  now?: () => number;
}

/**
 * Starts a round at every multiple of the interval (so replicas and restarts stay in
 * phase). Each node starts at a fixed offset within the jitter window and runs on its
 * own: a slow or failing node delays nobody, and is skipped (not queued) if its previous
 * scrape is still running, so rounds never overlap for a node. At most `concurrency`
 * scrapes hold a slot at once; a scrape may give its slot back early (see ConcurrencySlot)
 * while it still counts as running for its node.
 */
export class RoundScheduler<T extends { node: string }> {
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Set<string>();
  private readonly waiting: (() => void)[] = [];
  private active = 0;
  private stopped = false;
  private readonly rounds = new Set<Promise<void>>();
  private readonly now: () => number;

  constructor(private readonly opts: RoundSchedulerOptions<T>) {
    this.now = opts.now ?? Date.now;
  }

  start(): void {
    this.stopped = false;
    this.scheduleNext();
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    const now = this.now();
    const next = Math.ceil((now + 1) / this.opts.intervalMs) * this.opts.intervalMs;
    this.timer = setTimeout(() => {
      this.scheduleNext();
      this.runRound(next);
    }, next - now);
  }

  /** Runs one round now; exported for tests and for a first round at start. */
  runRound(roundStart: number): Promise<void> {
    const targets = this.opts.targets();
    let succeeded = 0;
    let failed = 0;
    let skipped = 0;
    const work = targets.map(async (target) => {
      if (this.inFlight.has(target.node)) {
        skipped++;
        return;
      }
      this.inFlight.add(target.node);
      try {
        const offset = this.opts.jitterMs > 0 ? shardOf(target.node, 1 << 30) % this.opts.jitterMs : 0;
        const wait = roundStart + offset - this.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (this.stopped) return;
        await this.acquire();
        let held = true;
        const slot: ConcurrencySlot = {
          release: () => {
            if (!held) return;
            held = false;
            this.release();
          },
        };
        try {
          await this.opts.scrape(target, roundStart, slot);
          succeeded++;
        } catch {
          failed++;
        } finally {
          slot.release();
        }
      } finally {
        this.inFlight.delete(target.node);
      }
    });
    const round = Promise.all(work).then(() => {
      this.opts.onRound?.({ roundStart, scheduled: targets.length, succeeded, failed, skipped, durationMs: this.now() - roundStart });
    });
    this.rounds.add(round);
    void round.finally(() => this.rounds.delete(round));
    return round;
  }

  private acquire(): Promise<void> {
    if (this.active < this.opts.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(() => { this.active++; resolve(); }));
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }

  /** Stops starting rounds and waits for the running scrapes to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await Promise.all([...this.rounds]);
  }
}
