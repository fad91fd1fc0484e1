import { describe, expect, it } from 'vitest';
import { summarizeCpuProfile } from './cpu-profile.js';

describe('summarizeCpuProfile', () => {
  it('ranks functions by self time, as shares of the busy (non-idle) time', () => {
    const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });
    const text = summarizeCpuProfile({
      nodes: [
        { id: 1, callFrame: frame('(root)') },
        { id: 2, callFrame: frame('(idle)') },
        { id: 3, callFrame: frame('encode', 'file:///x/dist/bench/services/aggregator/main.js', 9) },
        { id: 4, callFrame: frame('(garbage collector)') },
      ],
      samples: [2, 3, 3, 3, 4, 2],
      timeDeltas: [1e6, 1e6, 1e6, 1e6, 1e6, 1e6],
    });
    const lines = text.split('\n');
    expect(lines[0]).toBe('busy 4.0 s of 6.0 s profiled; self time:');
    expect(lines[1]).toMatch(/^ 75\.0%\s+3\.00 s  encode dist\/bench\/services\/aggregator\/main\.js:10$/);
    expect(lines[2]).toMatch(/^ 25\.0%\s+1\.00 s  \(garbage collector\)$/);
    expect(lines).toHaveLength(3);
  });
});
