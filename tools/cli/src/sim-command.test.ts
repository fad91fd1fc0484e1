import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { cliToOptions, parseSimOptions } from '@heapstream/sim';
import { registerSimCommand } from './sim-command.js';

function parse(args: string[]): Record<string, unknown> {
  const program = new Command('heapstream').exitOverride();
  registerSimCommand(program);
  const sim = program.commands.find((c) => c.name() === 'sim')!;
  let captured: Record<string, unknown> = {};
  sim.action((opts: Record<string, unknown>) => {
    captured = opts;
  });
  program.parse(['node', 'heapstream', 'sim', ...args]);
  return captured;
}

describe('heapstream sim options', () => {
  it('map flags onto the simulator options', () => {
    const raw = parse(['--nodes', '7', '--pods-per-node', '3', '--latency', 'uniform:1ms..5ms', '--clock-skew', '1=+30s', '--clock-skew', '2=-5s', '--no-register', '--token', 'abcdefgh1234']);
    const o = parseSimOptions(cliToOptions(raw));
    expect(o.nodes).toBe(7);
    expect(o.podsPerNode).toBe(3);
    expect(o.latency).toEqual({ kind: 'uniform', minMs: 1, maxMs: 5 });
    expect(o.clockSkew).toEqual([
      { nodeIndex: 1, skewMs: 30_000 },
      { nodeIndex: 2, skewMs: -5_000 },
    ]);
    expect(o.register).toBe(false);
    expect(o.tokens).toEqual(['abcdefgh1234']);
    expect(o.controlPort).toBe(0);
  });

  it('name the bad option', () => {
    const raw = parse(['--pods-per-node', 'lots', '--error-rate', '3']);
    expect(() => parseSimOptions(cliToOptions(raw))).toThrow(/--pods-per-node.*--error-rate|--error-rate.*--pods-per-node/);
  });
});

describe('heapstream sim bench', () => {
  it('owns the options written after it', () => {
    const program = new Command('heapstream').exitOverride();
    registerSimCommand(program);
    const bench = program.commands.find((c) => c.name() === 'sim')!.commands.find((c) => c.name() === 'bench')!;
    let captured: Record<string, string> = {};
    bench.action((o: Record<string, string>) => {
      captured = o;
    });
    program.parse(['node', 'heapstream', 'sim', 'bench', '--nodes', '12', '--rounds', '1']);
    expect(captured.nodes).toBe('12');
    expect(captured.rounds).toBe('1');
  });
});
