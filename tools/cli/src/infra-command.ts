import type { Command } from 'commander';
import { down, status, up } from '@heapstream/infra';

const progress = (line: string) => console.error(`[infra] ${line}`);

export function registerInfraCommands(program: Command): void {
  const infra = program.command('infra').description('local Kafka, InfluxDB, etcd and kube-apiserver on 127.0.0.1');

  infra
    .command('up')
    .description('provision (cached), start and health-wait the servers; prints KEY=value endpoints')
    .argument('[servers...]', 'only these (kafka, influxdb, etcd, kube-apiserver)')
    .action(async (only: string[]) => {
      const env = await up({ progress, only });
      for (const [key, value] of Object.entries(env)) console.log(`${key}=${value}`);
    });

  infra
    .command('down')
    .description('stop the servers by their saved PIDs')
    .argument('[servers...]', 'only these')
    .action(async (only: string[]) => {
      await down({ progress, only });
    });

  infra
    .command('status')
    .description('which servers run and answer')
    .action(async () => {
      const all = await status();
      for (const s of all) {
        const state = s.ready ? 'ready' : s.running ? 'running, not ready' : 'stopped';
        console.log(`${s.name.padEnd(15)} ${state}${s.pid ? ` (pid ${s.pid})` : ''}`);
      }
    });
}
