import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRICS } from './catalogue.js';
import { readTestdata } from './golden.test-helper.js';

const doc = readFileSync(new URL('../../../docs/storage-schema.md', import.meta.url), 'utf8');

describe('docs/storage-schema.md', () => {
  it('has one table row per catalogue metric, with its unit, kind, type and entity types', () => {
    const rows = doc.slice(doc.indexOf('## Metrics')).split('\n').filter((l) => /^\| `[a-z_/]+` \|/.test(l));
    const documented = rows.map((r) => r.split(' | ').slice(0, 5).join(' | '));
    const expected = METRICS.map((m) => `| \`${m.name}\` | ${m.unit} | ${m.kind} | ${m.valueType} | ${m.entities.join(', ')}`);
    expect(documented).toEqual(expected);
  });

  it('shows example lines that are exactly what the mapper writes', () => {
    const example = /```\n([\s\S]*?)```/.exec(doc)![1]!.trim().split('\n');
    expect(readTestdata('golden/otel-stats-summary.heapster.lp').toString().split('\n')).toContain(example[0]);
    expect(readTestdata('golden/otel-stats-summary.wide.lp').toString().split('\n')).toContain(example[1]);
  });
});
