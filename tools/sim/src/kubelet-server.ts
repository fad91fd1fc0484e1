import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import type { ErrorKind, OutageMode } from './config.js';
import type { FaultPlan } from './faults.js';
import type { NodeSpec } from './model.js';
import type { CertificateAuthority } from './x509.js';

/**
 * Thousands of kubelets in one process: one small net.Server per node address
 * (127.x.y.z:port), each accepted socket wrapped in TLS with that node's certificate
 * and handed to ONE shared HTTP server, which tells nodes apart by a tag on the socket.
 */

export interface KubeletRequest {
  nodeIndex: number;
  path: string;
  query: URLSearchParams;
}

export interface KubeletResponse {
  status: number;
  contentType: string;
  body: string;
  /** The kubelet sample this response reports (Summary and resource metrics). */
  sampleMs?: number;
}

export type Outcome = 'ok' | 'unauthorized' | 'not-found' | ErrorKind;

export interface ServeRecord {
  nodeIndex: number;
  atMs: number;
  path: string;
  status: number;
  outcome: Outcome;
  sampleMs?: number;
  bytes: number;
}

export interface KubeletFleetOptions {
  nodes: readonly NodeSpec[];
  ca: CertificateAuthority;
  isValidToken: (token: string) => boolean;
  route: (req: KubeletRequest) => KubeletResponse;
  faults: FaultPlan;
  now: () => number;
  onServe: (record: ServeRecord) => void;
}

const CERT_GROUP = 50;
const NODE = Symbol('heapstream.sim.node');
const RAW = Symbol('heapstream.sim.raw');
type Tagged = Socket & { [NODE]?: number; [RAW]?: Socket };

export class KubeletFleet {
  private readonly listeners: Array<NetServer | undefined>;
  private readonly contexts: Array<SecureContext | undefined>;
  private readonly sockets: Array<Set<Socket> | undefined>;
  private readonly ports: number[];
  private readonly http: HttpServer;
  private closed = false;

  constructor(private readonly opts: KubeletFleetOptions) {
    const n = opts.nodes.length;
    this.listeners = new Array(n);
    this.contexts = new Array(n);
    this.sockets = new Array(n);
    this.ports = opts.nodes.map((s) => s.port);
    this.http = createHttpServer({ keepAlive: true, noDelay: true }, (req, res) => this.handle(req, res));
    this.http.keepAliveTimeout = 120_000;
    this.http.headersTimeout = 60_000;
    this.http.requestTimeout = 0;
    this.http.on('clientError', (_err, socket) => socket.destroy());
  }

  /** Listen on every node address; fails naming the address that could not be bound. */
  async start(): Promise<void> {
    const batch = 256;
    for (let i = 0; i < this.opts.nodes.length; i += batch) {
      const slice = this.opts.nodes.slice(i, i + batch);
      await Promise.all(slice.map((spec) => this.listen(spec.index)));
    }
  }

  /** The port a node actually listens on (differs from spec.port only when that is 0). */
  port(index: number): number {
    return this.ports[index]!;
  }

  private listen(index: number): Promise<void> {
    const spec = this.opts.nodes[index]!;
    const server = createNetServer({ noDelay: true, pauseOnConnect: false }, (raw) => this.accept(index, raw));
    this.listeners[index] = server;
    return new Promise((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        reject(new Error(`kubelet ${spec.name}: cannot listen on ${spec.address}:${spec.port}: ${err.code ?? err.message}`));
      });
      server.listen({ host: spec.address, port: this.ports[index], backlog: 64 }, () => {
        const addr = server.address();
        if (addr && typeof addr === 'object') this.ports[index] = addr.port;
        server.removeAllListeners('error');
        server.on('error', () => undefined);
        resolve();
      });
    });
  }

  /**
   * Nodes share a TLS context per group of CERT_GROUP consecutive nodes:
   * its certificate carries every IP and host name of the group. A context per node
   * cost ~250 KB each; 100 contexts serve 5,000 nodes, and certificates stay small.
   */
  private context(index: number): SecureContext {
    const group = Math.floor(index / CERT_GROUP);
    let ctx = this.contexts[group];
    if (!ctx) {
      const members = this.opts.nodes.slice(group * CERT_GROUP, (group + 1) * CERT_GROUP);
      const cert = this.opts.ca.issue(
        members[0]!.name,
        members.map((m) => m.address),
        members.map((m) => m.name),
      );
      ctx = createSecureContext({ key: this.opts.ca.servingKey.keyPem, cert, minVersion: 'TLSv1.2' });
      this.contexts[group] = ctx;
    }
    return ctx;
  }

  private track(index: number, socket: Socket): void {
    let set = this.sockets[index];
    if (!set) {
      set = new Set();
      this.sockets[index] = set;
    }
    set.add(socket);
    socket.once('close', () => set.delete(socket));
  }

  private accept(index: number, raw: Socket): void {
    raw.on('error', () => undefined);
    this.track(index, raw);
    // A hanging node accepts connections and then says nothing, not even a TLS hello.
    if (this.opts.faults.outage(index)?.mode === 'hang') return;
    const socket = new TLSSocket(raw, { isServer: true, secureContext: this.context(index), ALPNProtocols: ['http/1.1'] }) as Tagged;
    socket[NODE] = index;
    socket[RAW] = raw;
    socket.on('error', () => socket.destroy());
    this.http.emit('connection', socket);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const socket = req.socket as Tagged;
    const index = socket[NODE];
    if (index === undefined) {
      res.destroy();
      return;
    }
    const atMs = this.opts.now();
    const url = new URL(req.url ?? '/', 'https://kubelet');
    const path = url.pathname;
    const outage = this.opts.faults.outage(index);
    if (outage) {
      if (outage.mode === 'refuse') socket[RAW]?.resetAndDestroy();
      return; // hang: never answer
    }
    const record = (status: number, outcome: Outcome, bytes: number, sampleMs?: number) =>
      this.opts.onServe({ nodeIndex: index, atMs, path, status, outcome, sampleMs, bytes });

    const auth = req.headers.authorization;
    const token = auth && /^bearer /i.test(auth) ? auth.slice(7).trim() : undefined;
    if (!token || !this.opts.isValidToken(token)) {
      res.writeHead(401, { 'content-type': 'text/plain; charset=utf-8', 'content-length': 12 }).end('Unauthorized');
      record(401, 'unauthorized', 12);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8' }).end('Method Not Allowed');
      record(405, 'not-found', 18);
      return;
    }
    let response: KubeletResponse;
    try {
      response = this.opts.route({ nodeIndex: index, path, query: url.searchParams });
    } catch (err) {
      response = { status: 500, contentType: 'text/plain; charset=utf-8', body: `internal error: ${(err as Error).message}` };
    }
    const decision = this.opts.faults.decide(index);
    const send = () => this.respond(index, res, response, decision.error, record);
    if (decision.delayMs > 0) setTimeout(send, decision.delayMs).unref();
    else send();
  }

  private respond(
    index: number,
    res: ServerResponse,
    response: KubeletResponse,
    error: ErrorKind | undefined,
    record: (status: number, outcome: Outcome, bytes: number, sampleMs?: number) => void,
  ): void {
    if (res.destroyed) return;
    const sampleMs = response.sampleMs;
    const isJson = response.contentType.startsWith('application/json');
    switch (error) {
      case '5xx': {
        const status = index % 2 === 0 ? 500 : 503;
        const body = status === 500 ? 'Internal Server Error' : 'Service Unavailable';
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': body.length }).end(body);
        record(status, '5xx', body.length, sampleMs);
        return;
      }
      case 'reset':
        (res.socket as Tagged | null)?.[RAW]?.resetAndDestroy();
        record(0, 'reset', 0, sampleMs);
        return;
      case 'truncated': {
        const cut = response.body.slice(0, Math.max(1, Math.floor(response.body.length / 2)));
        this.write(res, response.status, response.contentType, cut);
        record(response.status, 'truncated', Buffer.byteLength(cut), sampleMs);
        return;
      }
      case 'invalid': {
        const bad = isJson ? response.body.replace(/"usageNanoCores":\d+/, '"usageNanoCores":NaN').replace('"pods":', '"pods":,') : `${response.body}\n}{garbage`;
        this.write(res, response.status, response.contentType, bad);
        record(response.status, 'invalid', Buffer.byteLength(bad), sampleMs);
        return;
      }
      default: {
        const bytes = this.write(res, response.status, response.contentType, response.body);
        record(response.status, response.status === 404 ? 'not-found' : 'ok', bytes, sampleMs);
      }
    }
  }

  private write(res: ServerResponse, status: number, contentType: string, body: string): number {
    // No Buffer copy of a ~75 KB body: byteLength of a one-byte string is its length.
    const length = Buffer.byteLength(body, 'utf8');
    res.writeHead(status, { 'content-type': contentType, 'content-length': length });
    res.end(res.req.method === 'HEAD' ? undefined : body, 'utf8');
    return length;
  }

  /** Stop answering: `refuse` closes the port, `hang` accepts and never replies. */
  async stopNode(index: number, mode: OutageMode): Promise<void> {
    if (mode === 'refuse') {
      const server = this.listeners[index];
      this.listeners[index] = undefined;
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      for (const s of this.sockets[index] ?? []) s.resetAndDestroy();
    }
  }

  /** Answer again after `stopNode`; hung connections are dropped. */
  async restoreNode(index: number): Promise<void> {
    for (const s of this.sockets[index] ?? []) s.destroy();
    if (!this.listeners[index] && !this.closed) await this.listen(index);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // Connections first: server.close() waits for open ones, and a hung node's never end.
    const closing = this.listeners.map((server) => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));
    for (const set of this.sockets) for (const s of set ?? []) s.destroy();
    this.http.closeAllConnections();
    this.http.close();
    await Promise.all(closing);
  }
}
