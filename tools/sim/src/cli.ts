import type { Command } from 'commander';
import { parseDuration, SimConfigError, type SimOptionsInput } from './config.js';
import { stderrLogger } from './logger.js';
import { Simulator } from './simulator.js';

/** The `sim` command's options and action, shared by `heapstream sim` and tools/sim/src/main.ts. */

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function addSimOptions(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <path>', 'API server to register nodes/pods in (default $KUBECONFIG)')
    .option('--no-register', 'serve kubelets only; create nothing in the API server')
    .option('--nodes <n>', 'simulated nodes (default 3)')
    .option('--pods-per-node <n>', 'pods on every node (default 10)')
    .option('--containers-per-pod <n|min-max>', 'containers per pod (default 1-3)')
    .option('--interval <duration>', 'kubelet sample interval, whole seconds (default 10s)')
    .option('--churn <per-hour>', 'pod replacements per hour, cluster-wide (default 0)')
    .option('--restart-rate <per-hour>', 'restarts per container per hour (default 0)')
    .option('--slow-fraction <0..1>', 'fraction of nodes that answer slowly (default 0)')
    .option('--slow-latency <dist>', 'extra latency of slow nodes (default lognormal:2s,8s)')
    .option('--latency <dist>', 'latency of every answer: 50ms | uniform:10ms..200ms | normal:m,sd | lognormal:median,p99 | exp:mean (default 0)')
    .option('--error-rate <0..1>', 'fraction of answers replaced by an injected error (default 0)')
    .option('--error-kinds <list>', 'which errors: 5xx,reset,truncated,invalid (default all)')
    .option('--outages-per-hour <n>', 'nodes that stop answering, per hour (default 0)')
    .option('--outage-duration <duration>', 'how long an outage lasts (default 60s)')
    .option('--outage-mode <refuse|hang>', 'refuse connections or accept and never answer (default refuse)')
    .option('--clock-skew <index=±duration>', 'skew the clock of node INDEX, e.g. 2=+90s (repeatable)', collect)
    .option('--events-per-second <n>', 'background Kubernetes Events per second (default 0)')
    .option('--seed <n>', 'PRNG seed; same seed, same payloads (default 1)')
    .option('--name-prefix <label>', 'prefix of node and namespace names (default sim)')
    .option('--address-octet <1-254>', 'nodes listen on 127.<octet>.x.y (default 77)')
    .option('--kubelet-port <port>', 'kubelet port on every address (default 10250)')
    .option('--token <token>', 'bearer token the kubelets accept (repeatable)', collect)
    .option('--token-file <path>', 'tokens the kubelets accept, one a line or token-auth-file CSV')
    .option('--out-dir <path>', 'where ca.crt and token are written (default ~/.cache/heapstream/sim/<prefix>)')
    .option('--control-port <port>', 'ground truth and fault control on 127.0.0.1 (default: a free port)')
    .option('--node-status-interval <duration>', 'how often each Node heartbeat is written (default 40s)')
    .option('--api-concurrency <n>', 'concurrent API server calls (default 8)')
    .option('--legacy-fraction <0..1>', 'nodes that report the old-kubelet shape (default 0.1)')
    .option('--history-retention <duration>', 'how far back ground truth can recompute payloads (default 2h)')
    .option('--epoch <time>', 'simulated cluster epoch (default now); fix it to reproduce payloads')
    .option('--duration <duration>', 'stop after this long (default: until SIGINT/SIGTERM)')
    .option('--cleanup', 'on shutdown, delete what was created in the API server')
    .option('--record-summaries <n>', 'keep the last N /stats/summary bodies each node served, as exact ground truth (default 0)');
}

/** Options as commander hands them over (strings), to the simulator's input shape. */
export function cliToOptions(raw: Record<string, unknown>): SimOptionsInput {
  const { duration: _duration, token, ...rest } = raw;
  const input: Record<string, unknown> = { ...rest, controlPort: rest.controlPort ?? 0 };
  if (token) input.tokens = token;
  for (const [k, v] of Object.entries(input)) if (v === undefined) delete input[k];
  return input as SimOptionsInput;
}

export async function runSimFromCli(raw: Record<string, unknown>): Promise<void> {
  let sim: Simulator;
  try {
    const durationMs = raw.duration === undefined ? undefined : parseDuration(raw.duration as string);
    sim = await Simulator.start({ ...cliToOptions(raw), logger: stderrLogger });
    const nodes = sim.nodes();
    console.log(
      JSON.stringify({
        ready: true,
        nodes: nodes.length,
        first: nodes[0]?.url,
        last: nodes[nodes.length - 1]?.url,
        caFile: sim.caFile,
        tokenFile: sim.tokenFile,
        control: sim.controlUrl,
      }),
    );
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      process.once('SIGINT', done);
      process.once('SIGTERM', done);
      if (durationMs !== undefined) setTimeout(done, durationMs);
    });
    stderrLogger.info(sim.config.cleanup ? 'stopping; deleting created objects' : 'stopping (objects stay; use --cleanup to delete them)');
    await sim.stop();
  } catch (err) {
    if (err instanceof SimConfigError) throw new Error(`sim: ${err.message}`);
    throw err;
  }
}
