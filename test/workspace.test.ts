import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The workspace's static checks run as tests so CI cannot land code that does not
// typecheck or that imports across forbidden boundaries (Nx tags scope:*/type:*).
function run(command: string, args: string[]) {
  const result = spawnSync(command, args, { encoding: 'utf8', env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' } });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('workspace', () => {
  it('typechecks (tsc --noEmit, strict)', () => {
    const { status, output } = run('tsc', ['-p', 'tsconfig.json', '--noEmit']);
    expect(output).toBe('');
    expect(status).toBe(0);
  }, 180_000);

  it('lints with Nx module boundaries enforced', () => {
    const graph = run('nx', ['show', 'projects']);
    expect(graph.status).toBe(0);
    const { status, output } = run('eslint', ['--max-warnings=0', '.']);
    expect(output).toBe('');
    expect(status).toBe(0);
  }, 180_000);
});
