import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerTailCommand } from './tail-command.js';
import { registerUpCommand } from './up-command.js';
import { nonNegativeNumber, positiveNumber, wholeNumber } from './options.js';

/** Parses `args` and returns what commander refused, or the parsed options of the command. */
function parse(register: (p: Command) => void, args: string[]): { error?: string; options?: Record<string, unknown> } {
  let error = '';
  const program = new Command('heapstream').exitOverride().configureOutput({ writeErr: (s) => (error += s), writeOut: () => undefined });
  register(program);
  const command = program.commands[0]!;
  let options: Record<string, unknown> | undefined;
  command.exitOverride().configureOutput({ writeErr: (s) => (error += s), writeOut: () => undefined });
  command.action((...a: unknown[]) => {
    options = (a.at(-1) as Command).opts();
  });
  try {
    program.parse(['node', 'heapstream', ...args]);
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    return { error };
  }
  return { options: options! };
}

describe('CLI numeric options', () => {
  it('accept what they say and refuse the rest', () => {
    expect(wholeNumber(1)('12')).toBe(12);
    expect(wholeNumber(0)('0')).toBe(0);
    for (const bad of ['abc', '', '-3', '0', '1.5', '1e400']) expect(() => wholeNumber(1)(bad), bad).toThrow('a whole number of at least 1');
    expect(positiveNumber('0.5')).toBe(0.5);
    for (const bad of ['0', '-1', 'x', 'Infinity']) expect(() => positiveNumber(bad), bad).toThrow('a number above 0');
    expect(nonNegativeNumber('0')).toBe(0);
    expect(() => nonNegativeNumber('-0.1')).toThrow('a number of at least 0');
  });

  it('refuse a bad value naming the option and the value, before the command runs', () => {
    expect(parse(registerTailCommand, ['tail', 'metrics', '--limit', 'abc']).error).toContain("option '-n, --limit <count>' argument 'abc' is invalid. a whole number of at least 1");
    expect(parse(registerTailCommand, ['tail', 'metrics', '-n', '-3']).error).toContain("argument '-3' is invalid");
    expect(parse(registerUpCommand, ['up', '--nodes', '-5']).error).toContain("option '--nodes <n>' argument '-5' is invalid");
    expect(parse(registerUpCommand, ['up', '--duration', '0']).error).toContain("option '--duration <seconds>' argument '0' is invalid. a number above 0");
    expect(parse(registerUpCommand, ['up', '--kubeconfig', '/no/such/kubeconfig']).error).toContain("option '--kubeconfig <path>' argument '/no/such/kubeconfig' is invalid. no such file");
  });

  it('give numbers to the commands, with numeric defaults', () => {
    expect(parse(registerTailCommand, ['tail', 'metrics', '-n', '5']).options).toMatchObject({ limit: 5 });
    expect(parse(registerUpCommand, ['up', '--nodes', '3']).options).toMatchObject({ nodes: 3, podsPerNode: 10, eventsPerSecond: 2 });
  });
});
