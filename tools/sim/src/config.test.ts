import { describe, expect, it } from 'vitest';
import { parseDuration, parseLatency, parseSimOptions } from './config.js';

describe('simulator options', () => {
  it('fail naming the flag', () => {
    expect(() => parseSimOptions({ podsPerNode: -1 })).toThrow(/--pods-per-node/);
    expect(() => parseSimOptions({ nodes: 'many' as never })).toThrow(/--nodes/);
    expect(() => parseSimOptions({ latency: 'gauss:3ms' })).toThrow(/--latency: unknown distribution/);
    expect(() => parseSimOptions({ interval: '1500ms' })).toThrow(/--interval: must be a whole number of seconds/);
    expect(() => parseSimOptions({ errorKinds: '5xx,teapot' })).toThrow(/--error-kinds: unknown error kind 'teapot'/);
    expect(() => parseSimOptions({ clockSkew: ['9=+1s'], nodes: 3 })).toThrow(/--clock-skew: node index 9/);
    expect(() => parseSimOptions({ namePrefix: 'Bad_Name' })).toThrow(/--name-prefix/);
    expect(() => parseSimOptions({ errorRate: 2 })).toThrow(/--error-rate/);
  });

  it('parse durations and latency distributions', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5s')).toBe(1500);
    expect(parseDuration('2m')).toBe(120_000);
    expect(parseLatency('0')).toEqual({ kind: 'none' });
    expect(parseLatency('20ms')).toEqual({ kind: 'const', ms: 20 });
    expect(parseLatency('uniform:10ms..200ms')).toEqual({ kind: 'uniform', minMs: 10, maxMs: 200 });
    expect(parseLatency('lognormal:50ms,1s')).toEqual({ kind: 'lognormal', medianMs: 50, p99Ms: 1000 });
    const o = parseSimOptions({ clockSkew: ['1=-90s'], containersPerPod: '2-4' });
    expect(o.clockSkew).toEqual([{ nodeIndex: 1, skewMs: -90_000 }]);
    expect(o.containersPerPod).toEqual({ min: 2, max: 4 });
  });
});
