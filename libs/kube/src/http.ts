import http from 'node:http';
import https from 'node:https';
import { createInterface } from 'node:readline';
import type { KubeConfig } from '@kubernetes/client-node';

/** A non-2xx answer, or a watch ERROR, from the API server. */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
  /** 410 Gone: the resourceVersion is older than etcd keeps (compaction) or a continue token expired. */
  get isGone(): boolean {
    return this.statusCode === 410 || this.reason === 'Expired' || this.reason === 'Gone';
  }
}

/**
 * Worth retrying: the API server answered 5xx or 429, or could not be reached at all
 * (refused, reset, timed out: it is restarting or overloaded). 4xx answers are permanent.
 */
export function isTransientKubeError(err: unknown): boolean {
  if (err instanceof KubeApiError) return err.statusCode >= 500 || err.statusCode === 429;
  if (!(err instanceof Error)) return false;
  const code = (err as NodeJS.ErrnoException).code;
  return (code !== undefined && /^(ECONN|EPIPE|ETIMEDOUT|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|UND_ERR)/.test(code)) || /no answer within|socket hang up|closed before/.test(err.message);
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  timeoutMs?: number;
}

/**
 * Raw JSON access to the API server with the kubeconfig's credentials. Objects stay
 * as the server sent them (timestamps keep their microseconds, unknown fields survive),
 * which the generated typed clients do not guarantee.
 */
export class KubeHttp {
  private authAt = Date.now();

  private constructor(
    private readonly kc: KubeConfig,
    private readonly server: URL,
    private base: https.RequestOptions,
  ) {}

  static async create(kc: KubeConfig): Promise<KubeHttp> {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('kubeconfig has no current cluster');
    const opts: https.RequestOptions = {};
    await kc.applyToHTTPSOptions(opts);
    // The client's agent does not keep connections alive: a TLS handshake per request
    // costs both sides more CPU than the request itself at event rates.
    if (cluster.server.startsWith('https:') && !cluster.proxyUrl) {
      opts.agent = new https.Agent({
        keepAlive: true,
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
        ...(opts.servername ? { servername: opts.servername } : {}),
      });
    }
    return new KubeHttp(kc, new URL(cluster.server), opts);
  }

  /** Service-account tokens rotate: re-read the credentials' headers once a minute, keep the agent. */
  private async refreshAuth(): Promise<void> {
    if (Date.now() - this.authAt < 60_000) return;
    const opts: https.RequestOptions = {};
    await this.kc.applyToHTTPSOptions(opts);
    this.base = { ...this.base, headers: opts.headers };
    this.authAt = Date.now();
  }

  private url(path: string, query?: Query): URL {
    const url = new URL(this.server.pathname.replace(/\/$/, '') + path, this.server);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
    return url;
  }

  private open(method: string, path: string, opts: RequestOptions, onResponse: (res: http.IncomingMessage) => void, onError: (err: Error) => void): http.ClientRequest {
    const url = this.url(path, opts.query);
    const lib = url.protocol === 'http:' ? http : https;
    const headers: Record<string, string> = { ...(this.base.headers as Record<string, string>), accept: 'application/json' };
    const body = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = String(body.length);
    }
    const req = lib.request(url, { ...this.base, method, headers, signal: opts.signal }, onResponse);
    req.on('error', onError);
    if (opts.timeoutMs) req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${opts.timeoutMs} ms`)));
    req.end(body);
    return req;
  }

  /** Closes the keep-alive connections, so a process that is done with the API can exit. */
  close(): void {
    if (this.base.agent instanceof http.Agent) this.base.agent.destroy();
  }

  /** One request; resolves with the parsed JSON body, rejects with KubeApiError on a non-2xx status. */
  async request<T = unknown>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    await this.refreshAuth();
    return new Promise<T>((resolve, reject) => {
      // The listeners reach the caller only through `outcome`, emptied once settled: a
      // kept-alive socket holds on to its last response and its listeners until its next
      // request, and through `resolve` they would hold the whole parsed answer (a LIST).
      const outcome: { resolve?: (v: T) => void; reject?: (e: Error) => void } = { resolve, reject };
      const settle = (err: Error | undefined, value?: T) => {
        const { resolve: ok, reject: ko } = outcome;
        outcome.resolve = outcome.reject = undefined;
        if (err) ko?.(err);
        else ok?.(value as T);
      };
      const fail = (err: Error) => settle(err);
      this.open(
        method,
        path,
        { timeoutMs: 30_000, ...opts },
        (res) => {
          let chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', fail);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            chunks = [];
            const status = res.statusCode ?? 0;
            let json: unknown;
            try {
              json = text === '' ? undefined : JSON.parse(text);
            } catch {
              json = undefined;
            }
            if (status >= 200 && status < 300) settle(undefined, json as T);
            else settle(statusError(status, json, `${method} ${path}`, text));
          });
        },
        fail,
      );
    });
  }

  /**
   * A streaming GET (watch): calls `onLine` for every JSON line, in order, waiting for
   * each returned promise before reading more (backpressure). Resolves when the server
   * closes the stream, rejects on an error status or a broken connection.
   */
  async stream(path: string, opts: RequestOptions, onLine: (json: unknown) => Promise<void> | void, hooks: { onOpen?: () => void; onData?: () => void } = {}): Promise<void> {
    await this.refreshAuth();
    return new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (err: Error) => {
        if (!failed) {
          failed = true;
          reject(err);
        }
      };
      this.open(
        'GET',
        path,
        opts,
        (res) => {
          const status = res.statusCode ?? 0;
          if (status !== 200) {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              let json: unknown;
              try {
                json = JSON.parse(text);
              } catch {
                json = undefined;
              }
              fail(statusError(status, json, `watch ${path}`, text));
            });
            res.on('error', fail);
            return;
          }
          hooks.onOpen?.();
          res.on('data', () => hooks.onData?.());
          // Lines are queued and handled one at a time; when the connection ends (cleanly,
          // aborted or with an error) the lines already received are still handled first,
          // so a final ERROR line (410 Gone) is never mistaken for a broken connection.
          const queue: string[] = [];
          let ended: Error | null | undefined;
          let wake: (() => void) | undefined;
          const notify = () => {
            const w = wake;
            wake = undefined;
            w?.();
          };
          const lines = createInterface({ input: res, crlfDelay: Infinity });
          lines.on('line', (line) => {
            queue.push(line);
            if (queue.length > 1_000) res.pause();
            notify();
          });
          lines.on('close', () => {
            ended ??= res.complete ? null : new Error(`watch ${path}: connection closed before the stream ended`);
            notify();
          });
          const onError = (err: Error) => {
            ended ??= err;
            notify();
          };
          res.on('error', onError);
          lines.on('error', onError);
          void (async () => {
            for (;;) {
              const line = queue.shift();
              if (line === undefined) {
                if (ended !== undefined) return ended === null ? resolve() : fail(ended);
                await new Promise<void>((r) => (wake = r));
                continue;
              }
              if (queue.length < 100 && res.isPaused()) res.resume();
              if (line.trim() === '') continue;
              let json: unknown;
              try {
                json = JSON.parse(line);
              } catch {
                continue;
              }
              try {
                await onLine(json);
              } catch (err) {
                res.destroy();
                return fail(err as Error);
              }
            }
          })();
        },
        fail,
      );
    });
  }
}

function statusError(status: number, json: unknown, what: string, text: string): KubeApiError {
  const s = json as { reason?: string; message?: string; code?: number } | undefined;
  return new KubeApiError(s?.code ?? status, s?.reason, `${what}: ${status} ${s?.message ?? text.slice(0, 200)}`);
}
