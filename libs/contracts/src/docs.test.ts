import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { deadLetterCodec, metricPointBatchCodec, rawScrapeCodec } from './codecs.js';
import { TOPICS } from './topics.js';

const doc = readFileSync(new URL('../../../docs/topics.md', import.meta.url), 'utf8');
const examples = [...doc.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!);

describe('docs/topics.md', () => {
  it('lists every topic with its schema file', () => {
    for (const t of Object.values(TOPICS)) {
      expect(doc).toContain(`\`${t.name}\``);
      for (const f of t.schemaFiles) expect(doc).toContain(`\`${f}\``);
    }
  });

  it('shows example records that decode', () => {
    expect(examples).toHaveLength(3);
    const [raw, points, deadLetter] = examples;
    for (const [codec, text] of [[rawScrapeCodec, raw], [metricPointBatchCodec, points], [deadLetterCodec, deadLetter]] as const) {
      const r = codec.decode(text);
      expect(r.ok ? 'ok' : r.error.message).toBe('ok');
    }
  });
});
