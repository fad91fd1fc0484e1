import type { Command } from 'commander';
import { up } from '@heapstream/infra';

/**
 * `heapstream up`: the quick start. For now it provisions and starts the local
 * infrastructure only; the pipeline services join it as they land (issue 9).
 */
export function registerUpCommand(program: Command): void {
  program
    .command('up')
    .description('set up and start everything locally (today: Kafka, InfluxDB, etcd, kube-apiserver)')
    .action(async () => {
      const env = await up({ progress: (line) => console.error(`[up] ${line}`) });
      for (const [key, value] of Object.entries(env)) console.log(`${key}=${value}`);
      console.error('[up] infrastructure is running; stop it with ./heapstream infra down');
    });
}
