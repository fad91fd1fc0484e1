import { Agent, request } from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';

/**
 * A small JSON REST client for the API server: the simulator writes thousands of
 * objects and status subresources and needs plain status codes to decide retries.
 */

export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

/** Connection failures and 5xx/429 are worth retrying; other 4xx are not. */
export function isRetryableKubeError(err: unknown): boolean {
  if (err instanceof KubeApiError) return err.status >= 500 || err.status === 429 || err.status === 0;
  return true;
}

export class KubeRest {
  private readonly agent: Agent;
  private readonly base: URL;
  private readonly headers: Record<string, string>;

  private constructor(server: string, tls: { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string; rejectUnauthorized: boolean }, headers: Record<string, string>, maxSockets: number) {
    this.base = new URL(server);
    this.headers = headers;
    this.agent = new Agent({ keepAlive: true, maxSockets, ...tls });
  }

  static async fromKubeconfig(path: string | undefined, maxSockets = 16): Promise<KubeRest> {
    const kc = new KubeConfig();
    if (path) kc.loadFromFile(path);
    else kc.loadFromDefault();
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error(`kubeconfig ${path ?? '(default)'} has no current cluster`);
    const opts: { ca?: Buffer; cert?: Buffer; key?: Buffer; headers?: Record<string, string>; rejectUnauthorized?: boolean } = {};
    await kc.applyToHTTPSOptions(opts as never);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(opts.headers ?? {})) headers[k.toLowerCase()] = String(v);
    return new KubeRest(
      cluster.server,
      { ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: cluster.skipTLSVerify !== true },
      headers,
      maxSockets,
    );
  }

  async call<T = unknown>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
    const url = new URL(path, this.base);
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<T>((resolve, reject) => {
      const req = request(
        url,
        {
          method,
          agent: this.agent,
          timeout: 30_000,
          headers: {
            ...this.headers,
            accept: 'application/json',
            'user-agent': 'heapstream-sim',
            ...(payload ? { 'content-type': contentType, 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            let json: unknown;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              json = undefined;
            }
            if (status >= 200 && status < 300) return resolve(json as T);
            const st = json as { reason?: string; message?: string } | undefined;
            reject(new KubeApiError(status, st?.reason ?? '', `${method} ${url.pathname}: ${status} ${st?.message ?? text.slice(0, 200)}`));
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${url.pathname}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
