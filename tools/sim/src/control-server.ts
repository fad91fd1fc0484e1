import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseDuration, type OutageMode } from './config.js';
import type { Simulator } from './simulator.js';

/**
 * The simulator's control port on 127.0.0.1, plain HTTP, for tests in other processes:
 *   GET  /truth/nodes                        nodes with address, port, url
 *   GET  /truth?node=NAME[&time=ISO|ms]      the Summary the node reported for that sample
 *   GET  /truth/served?node=NAME             requests the node answered (outcome, sample time)
 *   GET  /truth/events                       events written
 *   POST /events/pause | /events/resume      stop or restart writing Events (tests)
 *   GET  /healthz                            ok, plus API server health
 *   POST /faults/down?node=NAME&mode=refuse|hang[&for=30s]
 *   POST /faults/up?node=NAME
 *   POST /faults/skew?node=NAME&by=-90s
 */
export class ControlServer {
  private readonly server: Server;
  url?: string;

  constructor(private readonly sim: Simulator) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => json(res, 400, { error: (err as Error).message }));
    });
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', (err) => reject(new Error(`--control-port: cannot listen on 127.0.0.1:${port}: ${(err as NodeJS.ErrnoException).code}`)));
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://control');
    const q = url.searchParams;
    const node = () => {
      const n = q.get('node');
      if (!n) throw new Error('node= is required');
      return /^\d+$/.test(n) ? Number(n) : n;
    };
    const route = `${req.method} ${url.pathname}`;
    switch (route) {
      case 'GET /healthz':
        return json(res, 200, { ok: true, api: this.sim.apiHealth ?? null, memory: process.memoryUsage() });
      case 'GET /truth/nodes':
        return json(res, 200, { caFile: this.sim.caFile, tokenFile: this.sim.tokenFile, nodes: this.sim.nodes() });
      case 'GET /truth': {
        const t = q.get('time');
        const atMs = t === null ? undefined : /^\d+$/.test(t) ? Number(t) : Date.parse(t);
        if (atMs !== undefined && !Number.isFinite(atMs)) throw new Error(`time=${t} is not an ISO time or epoch milliseconds`);
        const { sampleMs, summary } = this.sim.summaryAt(node(), atMs);
        return json(res, 200, { node: summary.node.nodeName, sampleTime: new Date(sampleMs).toISOString(), summary });
      }
      case 'GET /truth/served':
        return json(res, 200, { records: this.sim.served(node()) });
      case 'GET /truth/events':
        return json(res, 200, { events: this.sim.eventsWritten() });
      case 'POST /events/pause':
      case 'POST /events/resume':
        if (this.sim.events) this.sim.events.paused = url.pathname.endsWith('/pause');
        return json(res, 200, { paused: this.sim.events?.paused ?? false });
      case 'POST /faults/down': {
        const mode = (q.get('mode') ?? 'refuse') as OutageMode;
        if (mode !== 'refuse' && mode !== 'hang') throw new Error('mode must be refuse or hang');
        const f = q.get('for');
        await this.sim.stopNode(node(), mode, f ? parseDuration(f) : undefined);
        return json(res, 200, { ok: true });
      }
      case 'POST /faults/up':
        await this.sim.restoreNode(node());
        return json(res, 200, { ok: true });
      case 'POST /faults/skew': {
        const by = q.get('by') ?? '0';
        const neg = by.startsWith('-');
        const ms = parseDuration(by.replace(/^[+-]/, ''));
        this.sim.setClockSkew(node(), neg ? -ms : ms);
        return json(res, 200, { ok: true });
      }
      default:
        return json(res, 404, { error: `no route ${route}` });
    }
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
}
