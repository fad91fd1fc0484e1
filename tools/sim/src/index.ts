export { Simulator, startSimulator, type StartOptions, type SimNodeInfo } from './simulator.js';
export { SimulatedCluster, type PodIdentity } from './cluster.js';
export {
  parseSimOptions,
  simOptionsSchema,
  SimConfigError,
  parseDuration,
  parseLatency,
  type SimConfig,
  type SimOptionsInput,
  type LatencyDistribution,
  type ErrorKind,
  type OutageMode,
} from './config.js';
export type { Summary, NodeStats, PodStats, ContainerStats } from './summary-types.js';
export type { ServeRecord, Outcome } from './kubelet-server.js';
export type { TruthRecord } from './truth.js';
export type { EventRecord } from './events.js';
export type { SimLogger } from './logger.js';
export type { NodeState, PodState, ContainerState } from './model.js';
export { addSimOptions, runSimFromCli, cliToOptions } from './cli.js';
export { runBench, type BenchOptions } from './bench.js';
