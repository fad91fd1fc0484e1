import { Command } from 'commander';
import { addSimOptions, runSimFromCli } from './cli.js';

/** Standalone entry (`tsx tools/sim/src/main.ts ...`), the same options as `heapstream sim`. */
const program = addSimOptions(new Command('heapstream-sim').description('simulated kubelets and cluster').showHelpAfterError());
program.action((opts: Record<string, unknown>) => runSimFromCli(opts));
program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`heapstream-sim: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
