import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { inspectSummary } from './inspect-command.js';

const testdata = (name: string) => fileURLToPath(new URL(`../../../libs/metric-model/testdata/${name}`, import.meta.url));
const first = testdata('otel-stats-summary.json');
const second = testdata('otel-stats-summary-second-scrape.json');
const opts = { schema: 'heapster' as const, cluster: 'default', maxGapSeconds: 300 };

describe('inspect summary', () => {
  it('prints the golden line protocol of one file', () => {
    const { stdout, stderr } = inspectSummary([first], opts);
    const golden = readFileSync(testdata('golden/otel-stats-summary.heapster.lp'), 'utf8');
    // One point per line in the heapster layout: as many as the golden file has lines.
    const n = golden.trimEnd().split('\n').length;
    expect(n).toBe(542);
    expect(stderr).toEqual([]);
    expect(stdout[0]).toBe(`# otel-stats-summary.json: ${n} points, ${n} lines (heapster schema)`);
    expect(`${stdout.slice(1).join('\n')}\n`).toBe(golden);
  });

  it('adds the rates with a later file: 1000 millicores for every cpu block', () => {
    const { stdout } = inspectSummary([first, second], { ...opts, schema: 'wide' });
    const start = stdout.findIndex((l) => l.startsWith('# rates'));
    const rates = stdout.slice(start + 1, -1);
    expect(rates).toHaveLength(22);
    for (const l of rates) expect(l).toMatch(/^cpu,.* usage_rate=1000 \d+$/);
    expect(stdout.at(-1)).toBe('# series without a rate: not-advanced 164');
  });

  it('reports parse issues of a truncated file on stderr', () => {
    const dir = mkdtempSync(join(tmpdir(), 'inspect-'));
    const cut = join(dir, 'cut.json');
    const text = readFileSync(first, 'utf8');
    writeFileSync(cut, text.slice(0, Math.floor(text.length / 2)));
    const { stdout, stderr } = inspectSummary([cut], opts);
    expect(stderr[0]).toMatch(/^cut.json: \(body\): body ended early \(truncated\)/);
    expect(stdout.length).toBeGreaterThan(10);
  });

  it('runs as `heapstream inspect summary` end to end', () => {
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const run = spawnSync('tsx', [main, 'inspect', 'summary', first, second, '--schema', 'wide'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('usage_rate=1000 ');
    const bad = spawnSync('tsx', [main, 'inspect', 'summary', first, '--schema', 'tall'], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/heapster, wide/);
  }, 30_000);
});
