import { homedir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Where builds are cached (outside the work tree) and where running servers keep state. */
export const cacheDir = process.env.HEAPSTREAM_CACHE ?? join(homedir(), '.cache', 'heapstream');
export const stateDir = process.env.HEAPSTREAM_STATE ?? join(cacheDir, 'run');
export const infraScriptsDir = fileURLToPath(new URL('..', import.meta.url));

/** Fixed, non-default loopback ports so a developer's own servers on the defaults are untouched. */
export const ports = {
  kafka: 19092,
  kafkaController: 19093,
  influx: 18086,
  influxRpc: 18088,
  etcdClient: 12379,
  etcdPeer: 12380,
  kubeApiserver: 16443,
} as const;

export const host = '127.0.0.1';

/** The pinned versions, read from the same file the provisioning script uses. */
export function versions(): Record<string, string> {
  const text = readFileSync(join(infraScriptsDir, 'versions.sh'), 'utf8');
  return Object.fromEntries(
    [...text.matchAll(/^([A-Z0-9_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]),
  );
}
