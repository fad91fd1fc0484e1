import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { SimulatedCluster } from './cluster.js';
import { parseSimOptions, type OutageMode, type SimConfig, type SimOptionsInput } from './config.js';
import { ControlServer } from './control-server.js';
import { EventWriter, type EventRecord, type EventTarget } from './events.js';
import { KubeletFleet, type KubeletResponse, type ServeRecord } from './kubelet-server.js';
import { quietLogger, type SimLogger } from './logger.js';
import { KubeHttp, loadKubeConfig } from '@heapstream/kube';
import { epochAt, type NodeState, type PodState } from './model.js';
import { Prng, hashInts } from './random.js';
import { Registrar, type ApiHealth } from './registrar.js';
import type { Summary } from './summary-types.js';
import { TruthLog } from './truth.js';
import type { WorldEvent } from './world.js';
import { createCertificateAuthority, type CertificateAuthority } from './x509.js';

export interface StartOptions extends SimOptionsInput {
  /** Simulated clock (ms); defaults to Date.now. */
  clock?: () => number;
  logger?: SimLogger;
}

export interface SimNodeInfo {
  index: number;
  name: string;
  address: string;
  port: number;
  /** https://<address>:<port> */
  url: string;
}

/**
 * A running simulated cluster: kubelets on loopback addresses, optionally mirrored
 * into an API server, with events, faults and a ground-truth log.
 */
export class Simulator {
  readonly config: SimConfig;
  readonly cluster: SimulatedCluster;
  readonly truth: TruthLog;
  readonly ca: CertificateAuthority;
  readonly tokens: ReadonlySet<string>;
  readonly outDir: string;
  readonly caFile: string;
  readonly tokenFile: string;
  private fleet?: KubeletFleet;
  private control?: ControlServer;
  private api?: KubeHttp;
  registrar?: Registrar;
  events?: EventWriter;
  private tickTimer?: NodeJS.Timeout;
  private readonly chains = new Map<string, Promise<void>>();
  private registration?: Promise<void>;
  private stopped = false;
  private readonly outageRng: Prng;
  private nextOutageMs: number;
  readonly clock: () => number;
  readonly logger: SimLogger;

  private constructor(opts: StartOptions) {
    const { clock, logger, ...rest } = opts;
    this.clock = clock ?? Date.now;
    this.logger = logger ?? quietLogger;
    this.config = parseSimOptions(rest);
    this.cluster = new SimulatedCluster(this.config, Math.floor(this.clock() / 1000) * 1000);
    this.truth = new TruthLog(this.config.nodes);
    this.ca = createCertificateAuthority(`heapstream-sim-${this.config.namePrefix}-ca`);
    this.outDir = this.config.outDir ?? join(homedir(), '.cache', 'heapstream', 'sim', this.config.namePrefix);
    mkdirSync(this.outDir, { recursive: true });
    this.caFile = join(this.outDir, 'ca.crt');
    writeFileSync(this.caFile, this.ca.certPem);
    const tokens = new Set(this.config.tokens);
    if (this.config.tokenFile) {
      for (const line of readFileSync(this.config.tokenFile, 'utf8').split('\n')) {
        // Plain tokens, one a line, or kube-apiserver's token-auth-file CSV (token,user,uid,...).
        const token = line.trim().split(',')[0]?.trim();
        if (token && !token.startsWith('#')) tokens.add(token);
      }
      if (tokens.size === 0) throw new Error(`--token-file: ${this.config.tokenFile} holds no token`);
    }
    this.tokenFile = join(this.outDir, 'token');
    if (tokens.size === 0) tokens.add(randomBytes(24).toString('base64url'));
    writeFileSync(this.tokenFile, `${[...tokens][0]}\n`, { mode: 0o600 });
    this.tokens = tokens;
    this.outageRng = new Prng(hashInts(this.config.seed, 0x6f757421));
    this.nextOutageMs = this.drawOutage(this.cluster.epochMs);
  }

  static async start(opts: StartOptions = {}): Promise<Simulator> {
    const sim = new Simulator(opts);
    try {
      await sim.startServing();
    } catch (err) {
      await sim.stop();
      throw err;
    }
    return sim;
  }

  /** One token the kubelets accept. */
  get token(): string {
    return [...this.tokens][0]!;
  }

  get apiHealth(): ApiHealth | undefined {
    return this.registrar?.health;
  }

  get controlUrl(): string | undefined {
    return this.control?.url;
  }

  private async startServing(): Promise<void> {
    const c = this.config;
    this.cluster.advanceTo(this.clock());
    this.fleet = new KubeletFleet({
      nodes: this.cluster.nodes.map((n) => n.spec),
      ca: this.ca,
      isValidToken: (t) => this.tokens.has(t),
      route: (req) => this.route(req.nodeIndex, req.path, req.query),
      faults: this.cluster.faults,
      now: this.clock,
      onServe: (r) => this.truth.add(r, this.cluster.faults.skew(r.nodeIndex)),
    });
    await this.fleet.start();
    if (c.controlPort !== undefined) {
      this.control = new ControlServer(this);
      await this.control.listen(c.controlPort);
    }
    if (c.register) {
      const kubeconfigPath = c.kubeconfig ?? process.env.KUBECONFIG;
      this.api = await KubeHttp.create(loadKubeConfig(kubeconfigPath ? { kubeconfigPath } : {}));
      this.registrar = new Registrar(this.api, this.cluster.model, {
        concurrency: c.apiConcurrency,
        nodeStatusIntervalMs: c.nodeStatusInterval,
        logger: this.logger,
        kubeletPort: (i) => this.fleet?.port(i) ?? c.kubeletPort,
        now: this.clock,
        isDown: (i) => this.cluster.faults.outage(i) !== undefined,
      });
      const registrar = this.registrar;
      this.cluster.identity = { uid: (p) => registrar.everPodUids.get(p.uid), ownerUid: (p) => registrar.ownerUid(p) };
      this.events = new EventWriter(this.api, {
        seed: c.seed,
        eventsPerSecond: c.eventsPerSecond,
        now: this.clock,
        targets: () => this.eventTargets(),
        onError: (err) => this.logger.warn(`event write failed: ${(err as Error).message}`),
      });
      this.registration = registrar.registerAll().then(
        () => {
          this.logger.info(`registered ${c.nodes} nodes and ${c.nodes * c.podsPerNode} pods`);
          this.events?.start();
        },
        (err: unknown) => {
          if (!this.stopped) this.logger.error(`registration failed: ${(err as Error).message}`);
        },
      );
    }
    this.tickTimer = setInterval(() => this.tick(), 1000);
    this.tickTimer.unref();
  }

  /** Resolves when every node, owner and pod exists in the API server with its status. */
  async registered(): Promise<void> {
    await this.registration;
  }

  private eventTargets(): EventTarget[] {
    const out: EventTarget[] = [];
    const nodes = this.cluster.nodes;
    // A bounded sample keeps this cheap for thousands of nodes.
    const step = Math.max(1, Math.floor(nodes.length / 50));
    for (let i = 0; i < nodes.length; i += step) {
      const n = nodes[i]!;
      for (const pod of n.history[n.history.length - 1]!.pods) {
        const uid = this.registrar?.podUids.get(pod.uid);
        if (uid) out.push({ pod, node: n, uid });
      }
    }
    return out;
  }

  private drawOutage(fromMs: number): number {
    const perHour = this.config.outagesPerHour;
    if (perHour <= 0) return Number.POSITIVE_INFINITY;
    return fromMs + Math.max(1000, Math.round(this.outageRng.exponential(perHour / 3600e3)));
  }

  /** Advance history, apply its effects to the API server, start and end outages. */
  tick(): void {
    if (this.stopped) return;
    const now = this.clock();
    for (const e of this.cluster.advanceTo(now)) this.apply(e);
    while (this.nextOutageMs <= now) {
      const index = this.outageRng.int(this.config.nodes);
      const at = this.nextOutageMs;
      this.nextOutageMs = this.drawOutage(at);
      if (!this.cluster.faults.outage(index)) void this.stopNode(index, this.config.outageMode, this.config.outageDuration);
    }
    for (const index of this.cluster.faults.expireOutages(now)) {
      this.truth.note(index, now, 'node back');
      void this.fleet?.restoreNode(index);
    }
  }

  private serial(key: string, fn: () => Promise<void>): void {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(fn).catch((err: unknown) => {
      if (!this.stopped) this.logger.warn(`${key}: ${(err as Error).message}`);
    });
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  private apply(e: WorldEvent): void {
    const r = this.registrar;
    if (!r) return;
    const key = `${e.node.spec.name}/${e.type === 'pod-replaced' ? e.old.namespace : e.pod.namespace}/${e.type === 'pod-replaced' ? e.old.workload.name : e.pod.name}`;
    if (e.type === 'pod-replaced') {
      const oldUid = r.podUids.get(e.old.uid);
      this.events?.podStopped({ pod: e.old, node: e.node, uid: oldUid });
      this.serial(key, async () => {
        await this.registration;
        await r.replacePod(e.old, e.pod, e.node);
        this.events?.podStarted({ pod: e.pod, node: e.node, uid: r.podUids.get(e.pod.uid) });
      });
    } else {
      const container = e.pod.containers[e.containerIndex]!.name;
      this.serial(key, async () => {
        await this.registration;
        await r.putPodStatus(e.pod, e.node);
        this.events?.containerRestarted({ pod: e.pod, node: e.node, uid: r.podUids.get(e.pod.uid) }, container, e.reason);
      });
    }
  }

  private route(index: number, path: string, query: URLSearchParams): KubeletResponse {
    const node = this.cluster.node(index);
    const now = this.clock();
    this.cluster.advanceTo(now);
    const skewMs = this.cluster.faults.skew(index);
    switch (path) {
      case '/healthz':
        return { status: 200, contentType: 'text/plain; charset=utf-8', body: 'ok' };
      case '/stats/summary': {
        const sampleMs = this.cluster.sampleTimeAt(node, now);
        const only = query.get('only_cpu_and_memory') === 'true';
        const body = JSON.stringify(this.cluster.summary(node, sampleMs, { onlyCpuAndMemory: only, skewMs }));
        if (!only) this.recordSummary(index, sampleMs, body);
        return { status: 200, contentType: 'application/json', body, sampleMs };
      }
      case '/metrics/resource': {
        const sampleMs = this.cluster.sampleTimeAt(node, now);
        return { status: 200, contentType: 'text/plain; version=0.0.4; charset=utf-8', body: this.cluster.resourceMetrics(node, sampleMs, skewMs), sampleMs };
      }
      case '/pods':
        return { status: 200, contentType: 'application/json', body: JSON.stringify(this.cluster.podList(node, now)) };
      default:
        return { status: 404, contentType: 'text/plain; charset=utf-8', body: '404 page not found\n' };
    }
  }

  // ---- ground truth and fault control (also served on the control port) ----

  nodes(): SimNodeInfo[] {
    return this.cluster.nodes.map((n) => {
      const port = this.fleet?.port(n.spec.index) ?? n.spec.port;
      return { index: n.spec.index, name: n.spec.name, address: n.spec.address, port, url: `https://${n.spec.address}:${port}` };
    });
  }

  /** Bodies served per node (sample time -> JSON), when --record-summaries is on. */
  private readonly servedSummaries = new Map<number, Map<number, string>>();

  private recordSummary(index: number, sampleMs: number, body: string): void {
    const keep = this.config.recordSummaries;
    if (keep === 0) return;
    const bodies = this.servedSummaries.get(index) ?? new Map<number, string>();
    bodies.set(sampleMs, body);
    if (bodies.size > keep) bodies.delete(bodies.keys().next().value!);
    this.servedSummaries.set(index, bodies);
  }

  /**
   * What `node` reported (or would report) for the sample covering `atMs` (default: now):
   * the recorded body when --record-summaries kept it (exact), else regenerated.
   */
  summaryAt(node: string | number, atMs = this.clock()): { sampleMs: number; summary: Summary } {
    const n = this.cluster.node(node);
    const recorded = this.servedSummaries.get(n.spec.index);
    if (recorded && atMs !== undefined) {
      const sampleMs = this.cluster.sampleTimeAt(n, atMs);
      const body = recorded.get(sampleMs) ?? recorded.get(atMs);
      if (body) return { sampleMs, summary: JSON.parse(body) as Summary };
    }
    this.cluster.advanceTo(Math.min(atMs, this.clock()));
    const sampleMs = this.cluster.sampleTimeAt(n, atMs);
    const served = this.truth.find(n.spec.index, sampleMs);
    return { sampleMs, summary: this.cluster.summary(n, sampleMs, { skewMs: served?.skewMs }) };
  }

  /** Every request a node answered (most recent last, bounded), with its outcome and sample time. */
  served(node: string | number): ServeRecord[] {
    return this.truth.records(this.cluster.node(node).spec.index);
  }

  /** Pods running on a node now. */
  pods(node: string | number): PodState[] {
    return [...epochAt(this.cluster.node(node), this.clock()).pods];
  }

  eventsWritten(): EventRecord[] {
    return this.events?.written ?? [];
  }

  private index(node: string | number | NodeState): number {
    return typeof node === 'object' ? node.spec.index : this.cluster.node(node).spec.index;
  }

  /** Make a node stop answering (`refuse` closes its port, `hang` never replies), for `durationMs` or until restored. */
  async stopNode(node: string | number, mode: OutageMode = 'refuse', durationMs?: number): Promise<void> {
    const index = this.index(node);
    const now = this.clock();
    this.cluster.faults.setOutage(index, { mode, untilMs: durationMs === undefined ? undefined : now + durationMs });
    this.truth.note(index, now, `node down (${mode})`);
    await this.fleet?.stopNode(index, mode);
  }

  async restoreNode(node: string | number): Promise<void> {
    const index = this.index(node);
    this.cluster.faults.clearOutage(index);
    this.truth.note(index, this.clock(), 'node back');
    await this.fleet?.restoreNode(index);
  }

  setClockSkew(node: string | number, skewMs: number): void {
    this.cluster.faults.setSkew(this.index(node), skewMs);
  }

  /** Stop serving; with `cleanup` (or --cleanup) delete what was created in the API server. Safe to call twice. */
  async stop(opts: { cleanup?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.tickTimer) clearInterval(this.tickTimer);
    this.events?.stop();
    this.registrar?.stopHeartbeats();
    await this.fleet?.close();
    await this.control?.close();
    const cleanup = opts.cleanup ?? this.config.cleanup;
    if (this.registrar) {
      this.registrar.shutdown();
      await Promise.allSettled([...this.chains.values()]);
      if (cleanup) await this.registrar.cleanup();
    }
    this.api?.close();
  }
}

export function startSimulator(opts: StartOptions = {}): Promise<Simulator> {
  return Simulator.start(opts);
}
