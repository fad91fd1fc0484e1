import type { Command } from 'commander';
import { addSimOptions, runBench, runSimFromCli } from '@heapstream/sim';

/** `heapstream sim` (a simulated cluster) and `heapstream sim bench` (its load benchmark). */
export function registerSimCommand(program: Command): void {
  const sim = addSimOptions(
    program
      .command('sim')
      .description('simulated cluster: kubelets on 127.x addresses (HTTPS + token), Nodes/Pods/Events in the API server, faults, ground truth'),
  );
  // Options after `bench` belong to bench, not to sim. The program must hand `sim` its
  // arguments unsplit for that; it has no options of its own, so nothing else changes.
  program.enablePositionalOptions();
  sim.enablePositionalOptions();
  sim.action((opts: Record<string, unknown>) => runSimFromCli(opts));

  sim
    .command('bench')
    .description('serve N nodes × P pods from a child simulator, scrape them over loopback, print its CPU-seconds and peak RSS')
    .option('--nodes <n>', 'nodes', '5000')
    .option('--pods-per-node <n>', 'pods per node', '30')
    .option('--containers-per-pod <n|min-max>', 'containers per pod', '1-3')
    .option('--scrape-interval <ms>', 'every node is scraped once per interval (ms)', '15000')
    .option('--rounds <n>', 'scrape rounds', '4')
    .option('--address-octet <1-254>', 'nodes on 127.<octet>.x.y', '233')
    .option('--path <path>', 'kubelet path to scrape', '/stats/summary')
    .action(async (o: Record<string, string>) => {
      const num = (key: string, min: number) => {
        const v = Number(o[key]);
        if (!Number.isInteger(v) || v < min) throw new Error(`sim bench: --${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} must be an integer ≥ ${min}, got '${o[key]}'`);
        return v;
      };
      await runBench({
        nodes: num('nodes', 1),
        podsPerNode: num('podsPerNode', 0),
        containersPerPod: o.containersPerPod ?? '1-3',
        scrapeIntervalMs: num('scrapeInterval', 100),
        rounds: num('rounds', 1),
        addressOctet: num('addressOctet', 1),
        path: o.path ?? '/stats/summary',
      });
    });
}
