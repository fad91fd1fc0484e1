import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { registerInfraCommands } from './infra-command.js';
import { registerInspectCommand } from './inspect-command.js';
import { registerSimCommand } from './sim-command.js';
import { registerTestCommand } from './test-command.js';
import { registerUpCommand } from './up-command.js';
import { registerTailCommand } from './tail-command.js';
import { registerBenchCommand } from './bench-command.js';
import { registerTopCommand } from './top-command.js';
import { registerReplayCommand } from './replay-command.js';

// Output piped into `head` and the like: the reader closing early is the end, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
}

// The repository's package.json: three levels up from tools/cli/src/main.ts and from the
// image's /app/dist/tools/cli/main.js alike (the image keeps it in /app).
const { version } = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('heapstream')
  .description('Kubernetes metrics and events through Kafka into InfluxDB')
  .version(version, '-V, --version', 'the heapstream version (the image tag it is released as)')
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
