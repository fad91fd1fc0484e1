import { runBench } from './bench.js';

/*
 * The simulator benchmark as a program (`./heapstream bench sim`, or
 * `tsx tools/sim/src/bench-main.ts --nodes 5000 ...`). Apart from bench.ts, which the CLI
 * imports: a "run when this file is the entry point" check inside it ran the benchmark
 * on every start of the bundled CLI, whose entry file it then was.
 */

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

runBench({
  nodes: Number(arg('nodes', '5000')),
  podsPerNode: Number(arg('pods-per-node', '30')),
  containersPerPod: arg('containers-per-pod', '1-3'),
  scrapeIntervalMs: Number(arg('scrape-interval-ms', '15000')),
  rounds: Number(arg('rounds', '4')),
  addressOctet: Number(arg('address-octet', '233')),
  path: arg('path', '/stats/summary'),
}).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
