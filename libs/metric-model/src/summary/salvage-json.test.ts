import { describe, expect, it } from 'vitest';
import { salvageJson } from './salvage-json.js';

describe('salvageJson', () => {
  it('never keeps a number that touches the cut', () => {
    expect(salvageJson('{"a": 1, "b": 12')?.value).toEqual({ a: 1 });
    expect(salvageJson('{"a": 1, "b": 12 ')?.value).toEqual({ a: 1, b: 12 });
  });

  it('drops cut strings and literals', () => {
    expect(salvageJson('{"a": "x", "b": "unfinish')?.value).toEqual({ a: 'x' });
    expect(salvageJson('{"a": true, "b": fal')?.value).toEqual({ a: true });
  });

  it('drops the array element being read, keeps partial nested objects, and reports the outermost drop', () => {
    const r = salvageJson('{"node": {"cpu": {"t": 1}, "mem": {"u": 2, "w": 3');
    expect(r?.value).toEqual({ node: { cpu: { t: 1 }, mem: { u: 2 } } });
    const s = salvageJson('{"pods": [{"n": 1}, {"n": 2, "c": [{"x": 1}, {"x": 2');
    expect(s?.value).toEqual({ pods: [{ n: 1 }] });
    expect(s?.droppedElements).toEqual(['pods[1]']);
    expect(s?.error).toBe('body ended early (truncated)');
  });

  it('stops at garbage and says where', () => {
    const r = salvageJson('{"a": [1, 2, x]}');
    expect(r?.value).toEqual({ a: [1, 2] });
    expect(r?.error).toBe('invalid JSON at offset 13: bad number');
  });

  it('gives nothing when there is no object or array to keep', () => {
    expect(salvageJson('')).toBeUndefined();
    expect(salvageJson('nul')).toBeUndefined();
    expect(salvageJson('<html>')).toBeUndefined();
  });
});
