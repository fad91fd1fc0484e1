import { request } from 'node:https';

/** A tiny HTTPS client for tests: verifies the node's certificate against the simulator's CA. */
export interface KubeletReply {
  status: number;
  body: string;
}

export function getKubelet(url: string, opts: { ca: string; token?: string; timeoutMs?: number }): Promise<KubeletReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      ca: opts.ca,
      agent: false,
      headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      timeout: opts.timeoutMs ?? 5000,
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
