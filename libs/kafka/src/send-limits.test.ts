import { describe, expect, it } from 'vitest';
import { splitSends } from './send-limits.js';

const msg = (key: string, bytes: number) => ({ key, value: Buffer.alloc(bytes) });
const shape = (sends: ReturnType<typeof splitSends>) => sends.map((s) => s.map((t) => `${t.topic}:${t.messages.map((m) => m.key).join(',')}`));

describe('splitSends', () => {
  it('keeps everything in one send while it fits', () => {
    expect(shape(splitSends([{ topic: 'a', messages: [msg('1', 10), msg('2', 10)] }, { topic: 'b', messages: [msg('3', 10)] }], 100))).toEqual([['a:1,2', 'b:3']]);
  });

  it('cuts at the byte limit, across topics, in order, and sends an oversized message alone', () => {
    const sends = splitSends(
      [
        { topic: 'a', messages: [msg('1', 40), msg('2', 40), msg('3', 40)] },
        { topic: 'b', messages: [msg('4', 500), msg('5', 10)] },
      ],
      100,
    );
    expect(shape(sends)).toEqual([['a:1,2'], ['a:3'], ['b:4'], ['b:5']]);
    for (const s of sends) {
      const bytes = s.flatMap((t) => t.messages).reduce((n, m) => n + (m.value as Buffer).length + 1, 0);
      expect(bytes <= 100 || s[0]!.messages.length === 1).toBe(true);
    }
  });

  it('gives no send for no messages', () => {
    expect(splitSends([{ topic: 'a', messages: [] }])).toEqual([]);
  });
});
