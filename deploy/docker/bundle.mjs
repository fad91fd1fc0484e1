// Bundles the services and the CLI for the container image: one ESM file per entry
// point under dist/<project path>/ (main.js, and <name>.worker.js for each worker
// thread entry src/<name>.worker.ts beside it), like the Nx `build` targets, with two
// differences that make the bundles run on plain `node` (no tsx loader at runtime):
//  - kafkajs is bundled: it is CommonJS, and Node's ESM loader cannot see the named
//    exports the libraries import from it (`import { KafkaJSError } from 'kafkajs'`).
//  - a `require` shim, because bundled CommonJS code requires Node built-ins.
// Every other dependency stays external and comes from `npm ci --omit=dev`.
// Usage: node deploy/docker/bundle.mjs [--outdir dist] [project path ...]
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { build } from 'esbuild';

export const ENTRY_POINTS = ['services/scraper', 'services/event-watcher', 'services/aggregator', 'services/storage-writer', 'tools/cli', 'tools/sim'];
const BUNDLED = new Set(['kafkajs']);

export async function bundle({ root = process.cwd(), outdir = 'dist', projects = ENTRY_POINTS } = {}) {
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8'));
  const external = Object.keys(pkg.dependencies ?? {}).filter((d) => !BUNDLED.has(d));
  /** Every source file that went into a bundle (relative to root), for checks. */
  const inputs = new Set();
  for (const project of projects) {
    const workers = existsSync(resolve(root, project, 'src')) ? readdirSync(resolve(root, project, 'src')).filter((f) => f.endsWith('.worker.ts')) : [];
    const result = await build({
      absWorkingDir: root,
      entryPoints: [`${project}/src/main.ts`, ...workers.map((f) => `${project}/src/${f}`)],
      outdir: `${outdir}/${project}`,
      entryNames: '[name]',
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node24',
      sourcemap: true,
      external,
      logLevel: 'warning',
      metafile: true,
      banner: { js: "import { createRequire as __heapstreamCreateRequire } from 'node:module'; const require = __heapstreamCreateRequire(import.meta.url);" },
    });
    for (const input of Object.keys(result.metafile.inputs)) inputs.add(input);
  }
  // The programs' preload (deploy/docker/runtime.mjs), beside the bundles it serves.
  copyFileSync(resolve(root, 'deploy/docker/runtime.mjs'), resolve(root, outdir, 'runtime.mjs'));
  // The CLI reads the pinned versions (tools/infra/versions.sh) from `<its dir>/..`,
  // which for dist/tools/cli/main.js is dist/tools/.
  if (projects.includes('tools/cli')) {
    const tools = resolve(root, outdir, 'tools');
    mkdirSync(tools, { recursive: true });
    copyFileSync(resolve(root, 'tools/infra/versions.sh'), resolve(tools, 'versions.sh'));
  }
  return { inputs: [...inputs].sort() };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--outdir');
  const outdir = at >= 0 ? args.splice(at, 2)[1] : 'dist';
  await bundle({ outdir, projects: args.length ? args : ENTRY_POINTS });
}
