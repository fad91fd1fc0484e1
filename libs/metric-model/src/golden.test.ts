import { describe, expect, it } from 'vitest';
import type { MetricPoint } from '@heapstream/contracts';
import { rawScrapeSchema } from '@heapstream/contracts';
import { expectGolden, readTestdata } from './golden.test-helper.js';
import { scrapeToPoints } from './points.js';
import { ratesBetween } from './rate.js';
import { toLineProtocol } from './storage-schema.js';
import { parseSummary } from './summary/parse-summary.js';

const FIXTURES = ['otel-stats-summary', 'otel-stats-summary-second-scrape', 'telegraf-stats-summary'];
const json = (v: unknown) => `${JSON.stringify(v, null, 1)}\n`;
const lines = (l: string[]) => `${l.join('\n')}\n`;
// One point per line: a changed number shows up as a one-line diff.
const jsonLines = (points: MetricPoint[]) => lines(points.map((p) => JSON.stringify(p)));
const load = (name: string) => parseSummary(readTestdata(`${name}.json`), { cluster: 'default' });

describe.each(FIXTURES)('%s golden outputs', (name) => {
  const { scrape, issues } = load(name);
  const points = scrapeToPoints(scrape);

  it('parses without issues into a valid raw scrape', () => {
    expect(issues).toEqual([]);
    expect(rawScrapeSchema.safeParse(scrape).success).toBe(true);
    expectGolden(`${name}.scrape.json`, json(scrape));
  });

  it('gives the exact points', () => expectGolden(`${name}.points.jsonl`, jsonLines(points)));

  it.each(['heapster', 'wide'] as const)('gives the exact %s line protocol', (schema) => {
    const lp = toLineProtocol(points, { schema });
    expect(lp.skipped).toEqual([]);
    expectGolden(`${name}.${schema}.lp`, lines(lp.lines));
  });
});

describe('rates from otel-stats-summary to its second scrape', () => {
  const first = scrapeToPoints(load('otel-stats-summary').scrape);
  const second = scrapeToPoints(load('otel-stats-summary-second-scrape').scrape);
  const { points, skipped } = ratesBetween(first, second);

  it('is exactly 1000 millicores for each of the 22 cpu blocks', () => {
    const cpu = points.filter((p) => p.metric === 'cpu/usage_rate');
    const byType = (t: MetricPoint['entityType']) => cpu.filter((p) => p.entityType === t).length;
    expect([byType('node'), byType('sys_container'), byType('pod'), byType('pod_container')]).toEqual([1, 3, 9, 9]);
    for (const p of cpu) expect(p.value).toBeCloseTo(1000, 9);
  });

  it('gives no other rate: every other sample time is unchanged (stale), so not advanced', () => {
    expect(points.every((p) => p.metric === 'cpu/usage_rate')).toBe(true);
    expect(Object.keys(skipped)).toEqual(['not-advanced']);
  });

  it('matches the golden rates in both schemas', () => {
    expectGolden('otel-rates.points.jsonl', jsonLines(points));
    expectGolden('otel-rates.heapster.lp', lines(toLineProtocol(points, { schema: 'heapster' }).lines));
    expectGolden('otel-rates.wide.lp', lines(toLineProtocol(points, { schema: 'wide' }).lines));
  });
});
