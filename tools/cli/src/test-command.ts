import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { down, status, up } from '@heapstream/infra';

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  testResults: { name: string; status: string; assertionResults: unknown[]; message?: string }[];
}

/** Counts from vitest's JSON report; a file that failed to load counts as one failed test. */
export function summarize(report: VitestJson): { passed: number; failed: number } {
  const brokenFiles = report.testResults.filter((f) => f.status === 'failed' && f.assertionResults.length === 0).length;
  return { passed: report.numPassedTests, failed: report.numFailedTests + brokenFiles + report.numPendingTests };
}

export function registerTestCommand(program: Command): void {
  program
    .command('test')
    .description('set up everything (infrastructure included) and run every test; ends with "N passed, N failed"')
    .argument('[filters...]', 'only test files whose path contains one of these')
    .option('--unit', 'only the unit tests (no servers needed)')
    .option('--keep-infra', 'leave the servers running afterwards')
    .action(async (filters: string[], opts: { unit?: boolean; keepInfra?: boolean }) => {
      const progress = (line: string) => console.error(`[test] ${line}`);
      const started = Date.now();
      let startedInfra = false;
      let env: Record<string, string> = {};
      if (!opts.unit) {
        startedInfra = !(await status()).every((s) => s.ready);
        env = await up({ progress });
      }
      const reportFile = join(mkdtempSync(join(tmpdir(), 'heapstream-test-')), 'report.json');
      const args = ['run', '--reporter=default', '--reporter=json', `--outputFile.json=${reportFile}`, ...filters];
      if (opts.unit) args.push('--project', 'unit');
      let run: ReturnType<typeof spawnSync>;
      try {
        // kafkajs schedules negative timeouts, which Node >= 23 reports on every connect.
        const NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --disable-warning=TimeoutNegativeWarning`.trim();
        run = spawnSync('vitest', args, { stdio: 'inherit', env: { ...process.env, ...env, NODE_OPTIONS } });
      } finally {
        if (startedInfra && !opts.keepInfra) await down({ progress });
      }
      let counts: { passed: number; failed: number };
      try {
        counts = summarize(JSON.parse(readFileSync(reportFile, 'utf8')) as VitestJson);
      } catch {
        counts = { passed: 0, failed: 1 };
        progress(`the test runner produced no report (exit ${run.status})`);
      }
      if (run.status !== 0 && counts.failed === 0) counts.failed = 1;
      progress(`done in ${Math.round((Date.now() - started) / 1000)} s`);
      console.log(`${counts.passed} passed, ${counts.failed} failed`);
      process.exitCode = counts.failed === 0 ? 0 : 1;
    });
}
