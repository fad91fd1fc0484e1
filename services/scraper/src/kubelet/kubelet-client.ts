import { Agent, request, type RequestOptions } from 'node:https';
import { readFileSync } from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeletTarget } from '../discovery/kubelet-target.js';
import { classifyHttpStatus, classifyNetworkError, KubeletError } from './kubelet-error.js';

export type KubeletAccess =
  | { mode: 'token'; tokenFile: string; caFile?: string; insecureSkipVerify: boolean }
  | { mode: 'client-cert'; certFile: string; keyFile: string; caFile?: string; insecureSkipVerify: boolean }
  | { mode: 'proxy'; kubeConfig: KubeConfig };

export interface KubeletClientOptions {
  maxBodyBytes: number;
  /** Connections per kubelet (the agent's maxSockets). */
  maxSockets: number;
}

export interface FetchResult {
  body: Buffer;
  startedAt: number;
  finishedAt: number;
}

const readOptional = (file?: string): Buffer | undefined => {
  if (!file) return undefined;
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
};

/**
 * Fetches kubelet endpoints over HTTPS, directly or through the API server proxy.
 * Keeps connections alive across rounds; re-reads a rotating service-account token
 * once a minute; enforces a deadline and a body size limit per request.
 */
export class KubeletClient {
  private agent: Agent;
  private token?: string;
  private tokenReadAt = 0;
  private proxyBase?: { origin: string; options: RequestOptions };

  constructor(private readonly access: KubeletAccess, private readonly opts: KubeletClientOptions) {
    if (access.mode === 'proxy') {
      this.agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets });
    } else {
      const ca = readOptional(access.caFile);
      // One TLS context for every kubelet: given only ca/cert/key, each new connection
      // would parse them into a context of its own (~0.5 ms, 5,000 times after a restart).
      const secureContext = createSecureContext({
        ...(ca ? { ca } : {}),
        ...(access.mode === 'client-cert' ? { cert: readOptional(access.certFile), key: readOptional(access.keyFile) } : {}),
      });
      this.agent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets, rejectUnauthorized: !access.insecureSkipVerify, secureContext });
    }
  }

  private bearer(): string | undefined {
    if (this.access.mode !== 'token') return undefined;
    if (!this.token || Date.now() - this.tokenReadAt > 60_000) {
      this.token = readFileSync(this.access.tokenFile, 'utf8').trim();
      this.tokenReadAt = Date.now();
    }
    return this.token;
  }

  private async proxy(): Promise<{ origin: string; options: RequestOptions }> {
    if (this.access.mode !== 'proxy') throw new Error('not in proxy mode');
    if (!this.proxyBase) {
      const cluster = this.access.kubeConfig.getCurrentCluster();
      if (!cluster) throw new Error('kubeconfig has no current cluster');
      const options: RequestOptions = {};
      await this.access.kubeConfig.applyToHTTPSOptions(options);
      this.proxyBase = { origin: cluster.server.replace(/\/$/, ''), options };
    }
    return this.proxyBase;
  }

  async get(target: KubeletTarget, path: string, timeoutMs: number): Promise<FetchResult> {
    let url: URL;
    let options: RequestOptions;
    if (this.access.mode === 'proxy') {
      const base = await this.proxy();
      url = new URL(`${base.origin}/api/v1/nodes/${encodeURIComponent(target.node)}:${target.port}/proxy${path}`);
      options = { ...base.options, agent: this.agent };
    } else {
      url = new URL(`https://${target.host.includes(':') ? `[${target.host}]` : target.host}:${target.port}${path}`);
      const token = this.bearer();
      options = { agent: this.agent, headers: token ? { authorization: `Bearer ${token}` } : {} };
    }
    const startedAt = Date.now();
    return new Promise<FetchResult>((resolve, reject) => {
      // The listeners below reach the caller only through `outcome`, emptied once settled:
      // a kept-alive socket holds on to its last response, its listeners and all they can
      // reach until its next request, and through `resolve` that was the whole body —
      // with the chunks, ~140 KiB per idle kubelet connection between rounds.
      const outcome: { resolve?: (r: FetchResult) => void; reject?: (e: KubeletError) => void } = { resolve, reject };
      const settle = (result: FetchResult | KubeletError) => {
        const { resolve: ok, reject: ko } = outcome;
        outcome.resolve = outcome.reject = undefined;
        clearTimeout(deadline);
        if (result instanceof KubeletError) ko?.(result);
        else ok?.(result);
      };
      const fail = (err: KubeletError) => {
        settle(err);
        req.destroy();
      };
      const req = request(url, { ...options, method: 'GET', headers: { ...options.headers, accept: 'application/json' } }, (res) => {
        let chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.opts.maxBodyBytes) fail(new KubeletError(target.node, 'too-large', `answer for ${path} is over SCRAPER_MAX_BODY_BYTES (${this.opts.maxBodyBytes} bytes)`));
          else chunks.push(chunk);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks, size);
          chunks = [];
          const status = res.statusCode ?? 0;
          settle(status < 200 || status >= 300 ? classifyHttpStatus(target.node, status, path, body.toString('utf8')) : { body, startedAt, finishedAt: Date.now() });
        });
        res.on('error', (err) => fail(classifyNetworkError(target.node, target.host, target.port, err)));
      });
      const deadline = setTimeout(() => fail(new KubeletError(target.node, 'timeout', `no complete answer from ${target.host}:${target.port} within ${timeoutMs} ms (SCRAPER_TIMEOUT)`)), timeoutMs);
      req.on('error', (err) => fail(classifyNetworkError(target.node, target.host, target.port, err)));
      req.end();
    });
  }

  close(): void {
    this.agent.destroy();
  }
}
