import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { repoRoot, up } from '@heapstream/infra';

/** Each component keeps its benchmark beside its code; the CLI only finds and runs it. */
const BENCHES: Record<string, string> = {
  scraper: 'services/scraper/src/bench.ts',
  sim: 'tools/sim/src/bench-main.ts',
  aggregator: 'services/aggregator/bench/core-bench.ts',
  'storage-writer': 'services/storage-writer/bench/bench.ts',
  'event-watcher': 'services/event-watcher/src/bench.ts',
  pipeline: 'tools/infra/src/bench/pipeline-bench.ts',
};

/** Node flags a benchmark needs: the aggregator's reports its live state after a full GC. */
const NODE_FLAGS: Record<string, string[]> = { aggregator: ['--expose-gc'] };

export function registerBenchCommand(program: Command): void {
  program
    .command('bench')
    .description(`benchmarks (not tests) that print one table: ${Object.keys(BENCHES).join(', ')}`)
    .argument('<component>', Object.keys(BENCHES).join(' | '))
    .argument('[options...]', 'passed to the benchmark, e.g. --nodes 5000 --pods-per-node 30 (see --help after --)')
    .allowUnknownOption()
    .action(async (component: string, options: string[]) => {
      const file = BENCHES[component];
      if (!file || !existsSync(join(repoRoot, file))) throw new Error(`no benchmark "${component}" (have: ${Object.entries(BENCHES).filter(([, f]) => existsSync(join(repoRoot, f))).map(([n]) => n).join(', ')})`);
      const env = await up({ progress: (line) => console.error(`[bench] ${line}`) });
      const run = spawnSync(process.execPath, ['--disable-warning=TimeoutNegativeWarning', ...(NODE_FLAGS[component] ?? []), '--import', 'tsx', join(repoRoot, file), ...options], {
        cwd: repoRoot,
        stdio: 'inherit',
        env: { ...process.env, ...env, TSX_TSCONFIG_PATH: join(repoRoot, 'tsconfig.json') },
      });
      process.exitCode = run.status ?? 1;
    });
}
