import { describe, expect, it } from 'vitest';
import { comparisonTable, median, quantileOf, runTable, type RunFigures } from './report.js';

const run = (collector: string, cpu: number[], values: number): RunFigures => ({
  collector,
  rounds: 4,
  processes: cpu.map((c, i) => ({ name: `p${i}`, cpuSeconds: c, peakRssBytes: 100 * 1024 * 1024 })),
  influxCpuSeconds: 8,
  influxPeakRssBytes: 512 * 1024 * 1024,
  kafkaCpuSeconds: 2,
  valuesWritten: values,
  linesWritten: values / 2,
  seriesByRp: { raw: 1000, rollup_1m: 200 },
  writtenByRp: { raw: { values: values * 0.75, lines: values / 4 }, rollup_1m: { values: values / 4, lines: values / 4 } },
  nodes: 10,
  diskBytes: 4 * 1024 * 1024,
  roundMs: [1000, 2000, 3000, 4000],
  latencyMs: [500, 700],
  drainSeconds: 1.5,
  expectedNodeSamples: 800,
  foundNodeSamples: 798,
});

describe('pipeline bench report', () => {
  it('medians and nearest-rank quantiles', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(quantileOf([1, 2, 3, 4], 0.5)).toBe(2);
    expect(quantileOf([1, 2, 3, 4], 0.99)).toBe(4);
    expect(Number.isNaN(median([]))).toBe(true);
  });

  it('a run table has a row per process, the total and the servers, with per-round and per-million figures', () => {
    const text = runTable(run('heapstream', [2, 6], 1_000_000));
    const lines = text.split('\n');
    expect(lines[0]).toBe('heapstream, 4 rounds');
    expect(lines[1]).toMatch(/^process\s+CPU-s\/round\s+CPU-s\/M values\s+peak RSS MiB$/);
    // 8 CPU-s over 4 rounds = 2 per round; 8 CPU-s per million values; 200 MiB together
    expect(text).toMatch(/heapstream total\s+2\.00\s+8\.00\s+200/);
    expect(text).toMatch(/^p0\s+0\.50\s+2\.00\s+100$/m);
    expect(text).toMatch(/^influxdb\s+2\.00\s+8\.00\s+512$/m);
    expect(text).toContain('values/round 250,000, lines/round 125,000, series raw 1,000, rollup_1m 200, disk/round 1.0 MiB');
    // 750,000 raw values over 4 rounds and 10 nodes; 1,000 raw series over 10 nodes
    expect(text).toContain('per node and round: raw 18750.0 values / 6250.0 lines / 100.0 series; rollup_1m 6250.0 values / 6250.0 lines / 20.0 series');
    expect(text).toContain('round p50/p99 2.00/4.00 s');
    expect(text).toContain('lost 2');
  });

  it('the comparison gives each figure per collector and the median ratio with its range', () => {
    const text = comparisonTable([
      { a: run('heapstream', [3], 1_000_000), b: run('telegraf', [1], 1_000_000) },
      { a: run('heapstream', [4], 1_000_000), b: run('telegraf', [1], 1_000_000) },
      { a: run('heapstream', [6], 1_000_000), b: run('telegraf', [2], 1_000_000) },
    ]);
    expect(text.split('\n')[0]).toBe('medians of 3 A/B pair(s)');
    // per round: 0.75, 1, 1.5 vs 0.25, 0.25, 0.5 → ratios 3, 4, 3 → median 3
    expect(text).toMatch(/collector CPU-s\/round\s+1\.00\s+0\.25\s+3\.00× \(3\.00-4\.00\)/);
    expect(text).toMatch(/series\s+1200\s+1200\s+1\.00×/);
  });
});
