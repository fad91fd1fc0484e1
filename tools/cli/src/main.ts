import { Command } from 'commander';
import { registerInfraCommands } from './infra-command.js';
import { registerInspectCommand } from './inspect-command.js';
import { registerSimCommand } from './sim-command.js';
import { registerTestCommand } from './test-command.js';
import { registerUpCommand } from './up-command.js';
import { registerTailCommand } from './tail-command.js';
import { registerBenchCommand } from './bench-command.js';
import { registerTopCommand } from './top-command.js';
import { registerReplayCommand } from './replay-command.js';

const program = new Command('heapstream')
  .description('Kubernetes metrics and events through Kafka into InfluxDB')
  .showHelpAfterError();

registerInfraCommands(program);
registerUpCommand(program);
registerTestCommand(program);
registerTailCommand(program);
registerBenchCommand(program);
registerTopCommand(program);
registerReplayCommand(program);
registerInspectCommand(program);
registerSimCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  console.error(`heapstream: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
