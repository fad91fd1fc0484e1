import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, type ServiceName } from './pipeline.js';

/**
 * Bundles services with esbuild exactly as the image does (deploy/docker/bundle.mjs) into
 * `dist/<name>/services/<service>/main.js` and returns that directory (`bundleDir` of
 * startLocalPipeline). Inside the repository, so the bundles find node_modules. A bundle
 * starts in a fraction of the time and memory of the sources under tsx, and is what
 * production runs: benchmarks and `heapstream up` measure the real thing.
 */
export function bundleServices(services: readonly ServiceName[], name: string): string {
  const outdir = join('dist', name);
  const r = spawnSync(process.execPath, [join(repoRoot, 'deploy/docker/bundle.mjs'), '--outdir', outdir, ...services.map((s) => `services/${s}`)], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new Error(`bundling ${services.join(', ')} failed (esbuild's messages are above)`);
  return join(repoRoot, outdir);
}
