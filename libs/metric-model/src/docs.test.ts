import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRICS, windowFieldsOf } from './catalogue.js';
import { readTestdata } from './golden.test-helper.js';

const doc = readFileSync(new URL('../../../docs/storage-schema.md', import.meta.url), 'utf8');

describe('docs/storage-schema.md', () => {
  it('has one table row per catalogue metric, with its unit, kind, type and entity types', () => {
    const rows = doc.slice(doc.indexOf('## Metrics')).split('\n').filter((l) => /^\| `[a-z_/]+` \|/.test(l));
    const documented = rows.map((r) => r.split(' | ').slice(0, 5).join(' | '));
    const expected = METRICS.map((m) => `| \`${m.name}\` | ${m.unit} | ${m.kind} | ${m.valueType} | ${m.entities.join(', ')}`);
    expect(documented).toEqual(expected);
  });

  it("lists each metric's stored window fields as the catalogue has them", () => {
    const rollups = doc.slice(doc.indexOf('## Rollups'), doc.indexOf('## Metrics'));
    const rows = rollups.split('\n').filter((l) => l.startsWith('| `') || l.startsWith('| every other'));
    const fieldsOfRow = (row: string) => [...row.split(' | ')[1]!.matchAll(/`value_([a-z]+)`/g)].map((m) => m[1]);
    const named = new Map(rows.flatMap((row) => [...row.split(' | ')[0]!.matchAll(/`([a-z_/]+)`/g)].map((m) => [m[1]!, fieldsOfRow(row)] as const)));
    const other = fieldsOfRow(rows.find((r) => r.startsWith('| every other'))!);
    for (const m of METRICS.filter((d) => d.kind === 'gauge')) expect([m.name, named.get(m.name) ?? other]).toEqual([m.name, windowFieldsOf(m)]);
  });

  it('shows example lines that are exactly what the mapper writes', () => {
    const example = /```\n([\s\S]*?)```/.exec(doc)![1]!.trim().split('\n');
    expect(readTestdata('golden/otel-stats-summary.heapster.lp').toString().split('\n')).toContain(example[0]);
    expect(readTestdata('golden/otel-stats-summary.wide.lp').toString().split('\n')).toContain(example[1]);
  });
});
