import { nodeKey, rollupKey, type MetricPoint, type MetricPointBatch, type RawScrape, type Resolution } from '@heapstream/contracts';
import { findMetric, scrapeToPoints, TAGS } from '@heapstream/metric-model';
import { EntityTable } from './entities.js';
import { RateStore, type RateStoreState } from './rates.js';
import { enrichScrape, type MetadataSource } from './enrich.js';
import { bucketPoints, rollupTargets, type BucketEntry, type RollupTarget } from './rollups.js';
import { WindowSet, windowStart, type WindowSetState, type WindowSpec } from './windows.js';

/*
 * The aggregator's whole computation for one input partition, with no I/O and no
 * clock: raw scrapes in (in offset order), output batches out. Event time is the only
 * time: the watermark is the latest scrape `finishedAt` seen on the partition, and it
 * closes rollup cycles and windows. Everything output depends on is in the state that
 * `snapshot` returns, so a restored processor continues byte for byte.
 */

export interface ProcessorSettings {
  producer: string;
  /** Samples further apart give no rate. */
  maxRateGapMs: number;
  windows: readonly WindowSpec[];
  /** A window or cycle stays open this long after its end (event time). */
  allowedLatenessMs: number;
  /** Rollup cycle: nodes and pods are summed per cycle of this length. */
  rollupCycleMs: number;
  /** A scrape may claim to finish at most this far after Kafka received it. */
  maxClockSkewMs: number;
  /** A cpu/usage_rate above this (millicores) is impossible: dropped. */
  maxCpuMillicores: number;
  allowLabels: ReadonlySet<string>;
  /** Set when the raw topic has several partitions: tags cross-node rollups (see SHARD_TAG). */
  shard?: string;
}

export type Stream = 'metrics' | '1m' | '1h';

export interface OutputRecord {
  stream: Stream;
  key: string;
  batch: Omit<MetricPointBatch, 'schemaVersion'>;
}

export interface IngestResult {
  records: OutputRecord[];
  /** Set when the record is bad as a whole (nothing of it was used) or in part. */
  deadLetter?: { reason: string; error: string };
  /** Counted events: skipped rates, dropped values, late data, by reason. */
  counts: Record<string, number>;
}

interface NodeState {
  /** The node's entities, shared by its rate series and its windows. */
  entities: EntityTable;
  rates: RateStore;
  lastSeen: number;
}

const CUMULATIVE = (metric: string) => findMetric(metric)?.kind === 'cumulative';

export function entityKey(p: MetricPoint): string {
  return `${p.entityType}|${p.tags[TAGS.namespaceName] ?? ''}|${p.tags[TAGS.podName] ?? ''}|${p.tags[TAGS.containerName] ?? ''}`;
}

const nodeOwner = (node: string) => rollupKey('node', node);

/** A node's due windows not closed by its own next scrape within this many rollup cycles are closed anyway. */
const SILENT_NODE_GRACE_CYCLES = 2;

export class PartitionProcessor {
  readonly nodes = new Map<string, NodeState>();
  /** Open windows per owner (`node/<name>` or a rollup key). */
  readonly windows = new Map<string, WindowSet>();
  /** Window end -> rollup owners with a window ending then: closing never scans every owner. */
  private readonly ownersByEnd = new Map<number, Set<string>>();
  /**
   * Window end -> node owners with a window ending then. A node's windows close at its
   * own next scrape after the watermark passed them, so closing is spread over the
   * cycle instead of every node's windows coming out of one record (at 5,000 nodes,
   * millions of points in one transaction); this index closes the nodes that went
   * silent, `SILENT_NODE_GRACE_CYCLES` rollup cycles later.
   */
  private readonly nodesByEnd = new Map<number, Set<string>>();
  /** Rollup cycle start -> series key -> entry. */
  readonly buckets = new Map<number, Map<string, BucketEntry>>();
  watermark = Number.NEGATIVE_INFINITY;
  /** Owners (and nodes) whose checkpoint changed since the last `takeDirty`. */
  private dirty = new Set<string>();
  private readonly maxWindowMs: number;

  constructor(
    readonly settings: ProcessorSettings,
    private readonly metadata?: MetadataSource,
  ) {
    this.maxWindowMs = Math.max(settings.rollupCycleMs, ...settings.windows.map((w) => w.sizeMs));
  }

  /** One raw scrape (already schema-valid). `receivedAt` is the Kafka record timestamp. */
  ingest(scrape: RawScrape, receivedAt: number): IngestResult {
    const counts: Record<string, number> = {};
    const count = (reason: string, n = 1) => {
      if (n > 0) counts[reason] = (counts[reason] ?? 0) + n;
    };
    const finishedAt = scrape.scrape.finishedAt;
    if (finishedAt > receivedAt + this.settings.maxClockSkewMs) {
      count('impossible:scrape-in-future');
      return { records: [], counts, deadLetter: { reason: 'impossible:scrape-in-future', error: `scrape finishedAt ${finishedAt} is after the record's Kafka time ${receivedAt} + skew` } };
    }
    if (scrape.scrape.startedAt > finishedAt) {
      count('impossible:scrape-times');
      return { records: [], counts, deadLetter: { reason: 'impossible:scrape-times', error: `scrape startedAt ${scrape.scrape.startedAt} is after finishedAt ${finishedAt}` } };
    }

    let node = this.nodes.get(scrape.node);
    if (!node) {
      const entities = new EntityTable();
      node = { entities, rates: new RateStore({ maxGapMs: this.settings.maxRateGapMs }, entities), lastSeen: finishedAt };
      this.nodes.set(scrape.node, node);
    }
    node.lastSeen = Math.max(node.lastSeen, finishedAt);
    this.dirty.add(nodeOwner(scrape.node));

    // Validate sample times and start times before anything touches the state.
    const sampleLimit = finishedAt + this.settings.maxClockSkewMs;
    // A start time going backwards is bad input: an entity's latest start is kept with it.
    const backwards = new Set<string>();
    const newStarts = new Map<number, number>();
    const points: MetricPoint[] = [];
    for (const p of scrapeToPoints(scrape)) {
      if (p.timestamp > sampleLimit) {
        count('impossible:sample-in-future');
        continue;
      }
      if (p.startTime !== undefined) {
        if (p.timestamp < p.startTime) {
          count('impossible:sample-before-start');
          continue;
        }
        const entity = node.entities.idOf(p);
        const known = node.entities.startOf(entity);
        if (known !== undefined && p.startTime < known) {
          backwards.add(entityKey(p));
          count('start-time-backwards');
          continue;
        }
        newStarts.set(entity, p.startTime);
      }
      points.push(p);
    }
    for (const [entity, startTime] of newStarts) node.entities.setStart(entity, startTime);

    // Rates from the cumulative points, in the samples' own time.
    const rates: MetricPoint[] = [];
    for (const p of points) {
      if (!CUMULATIVE(p.metric)) continue;
      const r = node.rates.next(p, node.entities.idOf(p));
      if (r === undefined) continue;
      if (typeof r === 'string') count(`rate:${r}`);
      else if (r.metric === 'cpu/usage_rate' && r.value > this.settings.maxCpuMillicores) count('impossible:rate');
      else rates.push(r);
    }
    node.rates.prune(finishedAt - this.settings.maxRateGapMs);
    points.push(...rates);
    if (this.metadata) points.push(...enrichScrape(scrape, points, this.metadata, this.settings.allowLabels));

    // The rollup cycle this scrape counts in: its native batch says so, so storage can
    // stamp the node's points like the cycle's rollups (Heapster's one time per cycle).
    const bucket = windowStart(finishedAt, this.settings.rollupCycleMs);
    const records: OutputRecord[] = [
      { stream: 'metrics', key: nodeKey(scrape.node), batch: this.batch(scrape.cluster, 'native', finishedAt, points, bucket) },
    ];

    // Windows of every gauge and rate of the node's entities.
    const owner = nodeOwner(scrape.node);
    const cutoff = this.watermark - this.settings.allowedLatenessMs;
    const windows = this.windowSet(owner, node.entities);
    for (const p of points) {
      if (CUMULATIVE(p.metric)) continue;
      this.addToWindows(windows, p, cutoff, count);
    }
    node.entities.sweep();

    // Contributions to this cycle's rollups.
    if (bucket + this.settings.rollupCycleMs <= cutoff) {
      count('late:dropped-from-rollup');
    } else {
      // This scrape's contribution to each rollup series: its members' sum and count.
      const contributions = new Map<string, { target: RollupTarget; metric: string; sum: number; members: number }>();
      for (const p of points) {
        for (const target of rollupTargets(p, this.settings.shard)) {
          const key = `${target.owner}\u0000${p.metric}`;
          const c = contributions.get(key);
          if (c) {
            c.sum += p.value;
            c.members++;
          } else contributions.set(key, { target, metric: p.metric, sum: p.value, members: 1 });
        }
      }
      let entries = this.buckets.get(bucket);
      if (!entries) this.buckets.set(bucket, (entries = new Map()));
      for (const [key, { target, metric, sum, members }] of contributions) {
        let e = entries.get(key);
        if (!e) entries.set(key, (e = { owner: target.owner, metric, entityType: target.entityType, tags: target.tags, byNode: new Map() }));
        e.byNode.set(scrape.node, [sum, members]);
      }
    }

    if (finishedAt > this.watermark) {
      this.watermark = finishedAt;
      records.push(...this.close(scrape.cluster));
    }
    this.closeOwner(owner, scrape.cluster, records);
    const result: IngestResult = { records, counts };
    if (backwards.size > 0) {
      result.deadLetter = { reason: 'start-time-backwards', error: `start time went backwards for ${[...backwards].sort().join(', ')}; those series were skipped, the rest of the scrape was used` };
    }
    return result;
  }

  /** The owner's window set; a node's shares the node's entity table. */
  private windowSet(owner: string, entities?: EntityTable): WindowSet {
    let set = this.windows.get(owner);
    if (!set) this.windows.set(owner, (set = new WindowSet(entities ?? new EntityTable(), this.endIndexer(owner))));
    return set;
  }

  private addToWindows(set: WindowSet, p: MetricPoint, cutoff: number, count: (reason: string) => void): void {
    const entity = set.entities.idOf(p);
    // A kubelet repeats a sample until it takes a new one (volume and filesystem stats are
    // refreshed every minute or two): the same sample again is not new data, neither to
    // fold a second time nor to count as late.
    if (set.latestAt(entity, p.metric) === p.timestamp) return;
    const specs: WindowSpec[] = [];
    for (const spec of this.settings.windows) {
      const end = windowStart(p.timestamp, spec.sizeMs) + spec.sizeMs;
      if (end <= cutoff) {
        count(`late:dropped-from-${spec.resolution}`);
        continue;
      }
      specs.push(spec);
    }
    if (specs.length > 0) set.add(p, entity, specs);
  }

  private indexEnd(end: number, owner: string): void {
    const index = owner.startsWith('node/') ? this.nodesByEnd : this.ownersByEnd;
    let owners = index.get(end);
    if (!owners) index.set(end, (owners = new Set()));
    owners.add(owner);
  }

  /** Closes the owner's windows the watermark has passed, adding their batches to `out`. */
  private closeOwner(owner: string, cluster: string, out: OutputRecord[]): void {
    const set = this.windows.get(owner);
    if (!set) return;
    const closed = set.close(this.watermark, this.settings.allowedLatenessMs);
    if (closed.length === 0) return;
    set.entities.sweep();
    this.dirty.add(owner);
    if (owner.startsWith('node/')) {
      for (const { end } of closed) {
        const owners = this.nodesByEnd.get(end);
        owners?.delete(owner);
        if (owners?.size === 0) this.nodesByEnd.delete(end);
      }
    } else if (set.size === 0) this.windows.delete(owner);
    for (const spec of this.settings.windows) {
      const points = closed.filter((c) => c.resolution === spec.resolution).flatMap((c) => c.points);
      if (points.length > 0) out.push({ stream: spec.resolution, key: owner, batch: this.batch(cluster, spec.resolution, this.watermark, points) });
    }
  }

  /** Closes every cycle and window the watermark has passed; returns their batches in a fixed order. */
  private close(cluster: string): OutputRecord[] {
    const out: OutputRecord[] = [];
    const cutoff = this.watermark - this.settings.allowedLatenessMs;
    const producedAt = this.watermark;

    // Cycles first: their points feed the rollup owners' windows, which may close below.
    const bucketStarts = [...this.buckets.keys()].filter((b) => b + this.settings.rollupCycleMs <= cutoff).sort((a, b) => a - b);
    for (const start of bucketStarts) {
      const byOwner = new Map<string, BucketEntry[]>();
      for (const e of this.buckets.get(start)!.values()) {
        const list = byOwner.get(e.owner);
        if (list) list.push(e);
        else byOwner.set(e.owner, [e]);
      }
      this.buckets.delete(start);
      for (const owner of [...byOwner.keys()].sort()) {
        const points = bucketPoints(byOwner.get(owner)!, start);
        out.push({ stream: 'metrics', key: owner, batch: this.batch(cluster, 'native', producedAt, points, start) });
        const set = this.windowSet(owner);
        for (const p of points) set.add(p, set.entities.idOf(p), this.settings.windows);
        set.entities.sweep();
        this.dirty.add(owner);
      }
    }

    for (const [index, due] of [
      [this.ownersByEnd, cutoff],
      [this.nodesByEnd, cutoff - SILENT_NODE_GRACE_CYCLES * this.settings.rollupCycleMs],
    ] as const) {
      for (const end of [...index.keys()].filter((e) => e <= due).sort((a, b) => a - b)) {
        const owners = [...(index.get(end) ?? [])].sort();
        index.delete(end);
        for (const owner of owners) this.closeOwner(owner, cluster, out);
      }
    }
    // Once per cycle: a scan of every node on every record would be quadratic.
    if (bucketStarts.length > 0) this.evictIdleNodes();
    return out;
  }

  /** Nodes silent for longer than any state of theirs can matter are forgotten (tombstoned). */
  private evictIdleNodes(): void {
    const horizon = this.watermark - this.settings.maxRateGapMs - this.settings.allowedLatenessMs - this.maxWindowMs;
    for (const [name, node] of this.nodes) {
      if (node.lastSeen >= horizon) continue;
      const owner = nodeOwner(name);
      if ((this.windows.get(owner)?.size ?? 0) > 0) continue;
      this.nodes.delete(name);
      this.windows.delete(owner);
      this.dirty.add(owner);
    }
  }

  /** `cycle`: native batches, the rollup cycle their points count in. */
  private batch(cluster: string, resolution: Resolution, producedAt: number, points: MetricPoint[], cycle?: number): Omit<MetricPointBatch, 'schemaVersion'> {
    return { cluster, resolution, producedAt, producer: this.settings.producer, ...(cycle !== undefined ? { cycle } : {}), points };
  }

  /** Owners whose checkpoint must be rewritten (or tombstoned), and forget them. */
  takeDirty(): string[] {
    const d = [...this.dirty].sort();
    this.dirty = new Set();
    return d;
  }

  // ---- checkpoint -------------------------------------------------------------------

  /** The state of one owner, or undefined when it is gone (write a tombstone). */
  ownerState(owner: string): OwnerState | undefined {
    const set = this.windows.get(owner);
    const windows = set && set.size > 0 ? set.snapshot() : undefined;
    if (owner.startsWith('node/')) {
      const node = this.nodes.get(owner.slice('node/'.length));
      if (!node) return undefined;
      return { owner, lastSeen: node.lastSeen, entities: node.entities.snapshot(), rates: node.rates.snapshot(), starts: node.entities.snapshotStarts(), ...(windows ? { windows } : {}) };
    }
    return set && windows ? { owner, entities: set.entities.snapshot(), windows } : undefined;
  }

  partitionState(): PartitionState {
    return {
      watermark: Number.isFinite(this.watermark) ? this.watermark : null,
      buckets: [...this.buckets].map(([start, entries]) => ({
        start,
        entries: [...entries.values()].map((e) => ({ owner: e.owner, metric: e.metric, entityType: e.entityType, tags: e.tags, byNode: [...e.byNode].map(([node, [sum, members]]) => [node, sum, members]) })),
      })),
    };
  }

  restoreOwner(s: OwnerState): void {
    const entities = EntityTable.restore(s.entities, s.starts);
    if (s.owner.startsWith('node/')) {
      const options = { maxGapMs: this.settings.maxRateGapMs };
      const rates = s.rates ? RateStore.restore(options, entities, s.rates) : new RateStore(options, entities);
      this.nodes.set(s.owner.slice('node/'.length), { entities, rates, lastSeen: s.lastSeen ?? 0 });
    }
    if (s.windows) this.windows.set(s.owner, WindowSet.restore(entities, s.windows, this.endIndexer(s.owner)));
    entities.sweep();
  }

  /**
   * The callback a window set reports new period ends with. Made apart from
   * `restoreOwner`: a closure there would keep the whole checkpoint it restored from (its
   * rate and window columns) alive as long as the owner's windows.
   */
  private endIndexer(owner: string): (end: number) => void {
    return (end) => this.indexEnd(end, owner);
  }

  restorePartition(s: PartitionState): void {
    this.watermark = s.watermark ?? Number.NEGATIVE_INFINITY;
    for (const b of s.buckets) {
      const entries = new Map<string, BucketEntry>();
      for (const e of b.entries) entries.set(`${e.owner}\u0000${e.metric}`, { ...e, byNode: new Map(e.byNode.map(([node, sum, members]) => [node, [sum, members]])) });
      this.buckets.set(b.start, entries);
    }
  }
}

export interface OwnerState {
  owner: string;
  lastSeen?: number;
  /** Entity texts by id (null = free id), shared by `rates` and `windows`. */
  entities: (string | null)[];
  rates?: RateStoreState;
  /** Latest start time by entity id. */
  starts?: [number, number][];
  windows?: WindowSetState;
}

export interface PartitionState {
  watermark: number | null;
  buckets: { start: number; entries: { owner: string; metric: string; entityType: BucketEntry['entityType']; tags: Record<string, string>; byNode: [node: string, sum: number, members: number][] }[] }[];
}
