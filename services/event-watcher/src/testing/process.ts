import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * Bundles main.ts to CommonJS (dependencies stay external) so a child process runs
 * the real service; CommonJS because kafkajs is CommonJS and has no ESM named exports.
 */
export async function buildWatcherBundle(): Promise<string> {
  const { build } = await import('esbuild');
  const outfile = join(root, 'dist', 'event-watcher-it', `main-${process.pid}.cjs`);
  mkdirSync(join(root, 'dist', 'event-watcher-it'), { recursive: true });
  await build({
    entryPoints: [join(root, 'services/event-watcher/src/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    packages: 'external',
    outfile,
    logLevel: 'warning',
    tsconfig: join(root, 'tsconfig.base.json'),
  });
  return outfile;
}

export interface WatcherProcess {
  name: string;
  child: ChildProcess;
  /** Base URL of /readyz and /metrics, once the service logged it. */
  url: Promise<string>;
  exited: Promise<number | null>;
  isLeader(): Promise<boolean>;
  ready(): Promise<boolean>;
}

export function spawnWatcher(bundle: string, name: string, env: Record<string, string>, logDir: string): WatcherProcess {
  mkdirSync(logDir, { recursive: true });
  const child = spawn(process.execPath, [bundle], {
    cwd: root,
    env: { ...process.env, HEAPSTREAM_HTTP_PORT: '0', LOG_LEVEL: 'info', KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(join(logDir, `${name}.log`));
  child.stderr!.pipe(log);
  const url = new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      log.write(line + '\n');
      try {
        const j = JSON.parse(line) as { url?: string; msg?: string };
        if (j.url && j.msg?.endsWith('started')) resolve(j.url);
      } catch {
        // not JSON
      }
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before it started; see ${logDir}/${name}.log`)));
  });
  url.catch(() => undefined);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const get = async (path: string) => fetch(`${await url}${path}`);
  return {
    name,
    child,
    url,
    exited,
    async isLeader() {
      if (child.exitCode !== null || child.signalCode !== null) return false;
      const text = await (await get('/metrics')).text();
      return /^heapstream_event_watcher_leader\{[^}]*\} 1$/m.test(text);
    },
    async ready() {
      return (await get('/readyz')).status === 200;
    },
  };
}
