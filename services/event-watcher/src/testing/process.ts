import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';

const root = fileURLToPath(new URL('../../../../', import.meta.url));

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface WatcherProcess {
  name: string;
  child: ChildProcess;
  /** Base URL of /readyz and /metrics (answers once the service is up). */
  url: Promise<string>;
  exited: Promise<number | null>;
  isLeader(): Promise<boolean>;
  ready(): Promise<boolean>;
}

/** Runs the service's real entry point (main.ts through tsx, as `heapstream up` does) as a child process. */
export async function spawnWatcher(name: string, env: Record<string, string>, logDir: string): Promise<WatcherProcess> {
  mkdirSync(logDir, { recursive: true });
  const port = await freePort();
  const log = createWriteStream(join(logDir, `${name}.log`));
  const loader = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
  const child = spawn(process.execPath, ['--disable-warning=TimeoutNegativeWarning', '--import', loader, join(root, 'services/event-watcher/src/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      TSX_TSCONFIG_PATH: join(root, 'tsconfig.json'),
      HEAPSTREAM_HTTP_PORT: String(port),
      LOG_LEVEL: 'info',
      KAFKAJS_NO_PARTITIONER_WARNING: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.pipe(log);
  createInterface({ input: child.stdout! }).on('line', (line) => log.write(line + '\n'));
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    name,
    child,
    url: Promise.resolve(url),
    exited,
    async isLeader() {
      if (!alive()) return false;
      const text = await (await fetch(`${url}/metrics`)).text();
      return /^heapstream_event_watcher_leader\{[^}]*\} 1$/m.test(text);
    },
    async ready() {
      return alive() && (await fetch(`${url}/readyz`)).status === 200;
    },
  };
}
