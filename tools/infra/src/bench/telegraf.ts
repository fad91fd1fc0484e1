import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, ports, versions } from '../layout.js';
import { localAdminToken, pkiDir } from '../servers.js';

/*
 * The yardstick: Telegraf's `inputs.kubernetes` in cluster mode (it lists the Nodes
 * through the API server and scrapes every kubelet's /stats/summary and /pods) writing to
 * the same InfluxDB. Built by provision.sh with only those two plugins.
 */

export const telegrafBinary = (): string => join(cacheDir, `telegraf-${versions().TELEGRAF_VERSION}`, 'bin', 'telegraf');

export interface TelegrafRun {
  child: ChildProcess;
  exited: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The agent flushes often and buffers a whole round, so it neither drops metrics at 200
 * nodes (its default buffer of 10,000 metrics is less than a round) nor lags behind.
 */
function config(o: { database: string; influxUrl: string; intervalMs: number; kubeletCa: string; kubeletTokenFile: string }): string {
  return `[agent]
  interval = "${o.intervalMs / 1000}s"
  round_interval = true
  collection_jitter = "0s"
  flush_interval = "1s"
  flush_jitter = "0s"
  metric_batch_size = 5000
  metric_buffer_limit = 500000
  omit_hostname = true
  quiet = true

[[inputs.kubernetes]]
  bearer_token = "${o.kubeletTokenFile}"
  tls_ca = "${o.kubeletCa}"
  response_timeout = "10s"
  label_include = []
  label_exclude = ["*"]

[[outputs.influxdb]]
  urls = ["${o.influxUrl}"]
  database = "${o.database}"
  timeout = "10s"
`;
}

/**
 * Starts Telegraf. Its cluster mode knows only the in-cluster service account, so it runs
 * in a private mount namespace whose /run carries the local API server's CA and admin
 * token at /var/run/secrets/kubernetes.io/serviceaccount (nothing on the host changes).
 */
export function startTelegraf(o: { dir: string; database: string; influxUrl: string; intervalMs: number; kubeletCa: string; kubeletTokenFile: string }): TelegrafRun {
  mkdirSync(o.dir, { recursive: true });
  const conf = join(o.dir, 'telegraf.conf');
  writeFileSync(conf, config(o));
  const account = join(o.dir, 'serviceaccount');
  mkdirSync(account, { recursive: true });
  writeFileSync(join(account, 'token'), localAdminToken);
  const sa = '/run/secrets/kubernetes.io/serviceaccount';
  const script = [
    'set -e',
    'mount -t tmpfs tmpfs /run',
    `mkdir -p ${sa}`,
    `cp "${join(account, 'token')}" ${sa}/token`,
    `cp "${join(pkiDir, 'ca.crt')}" ${sa}/ca.crt`,
    `exec "${telegrafBinary()}" --config "${conf}"`,
  ].join('\n');
  const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(ports.kubeApiserver) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(join(o.dir, 'telegraf.log'), { flags: 'a' });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
