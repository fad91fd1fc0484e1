import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { decodeEventRecord, encodeEventRecord, heapsterEventSchema } from '@heapstream/contracts';
import { decide } from './decide.js';
import { eventFilter } from './filter.js';
import { toHeapsterEvent } from './heapster.js';
import { EmittedLedger } from './ledger.js';
import { buildRecords } from './record.js';

const testdata = fileURLToPath(new URL('../../testdata/', import.meta.url));
const fixtures = readdirSync(join(testdata, 'events')).filter((f) => f.endsWith('.json')).sort();
const OBSERVED_AT = 1_800_000_000_000;

describe('every fixture becomes records (goldens)', () => {
  it('has the eight fixtures', () => expect(fixtures.length).toBe(8));

  for (const file of fixtures) {
    it(file, () => {
      const raw: unknown = JSON.parse(readFileSync(join(testdata, 'events', file), 'utf8'));
      const decision = decide(raw, undefined, new EmittedLedger(), { filter: eventFilter({}), maxExpand: 100 });
      expect(decision.kind).toBe('emit');
      if (decision.kind !== 'emit') return;
      const records = buildRecords(decision.ev, decision.plan, { observedAt: OBSERVED_AT, maxMessageBytes: 16_384, cluster: 'test' });
      expect(records.length).toBe(decision.ev.count);
      // Every record survives the wire format and the contract's validation.
      for (const r of records) expect(decodeEventRecord(encodeEventRecord(r).value)).toEqual({ ok: true, value: r });
      const heapster = toHeapsterEvent(decision.ev, 16_384);
      expect(heapsterEventSchema.safeParse(heapster).success).toBe(true);
      const actual = JSON.stringify({ records, heapster }, null, 2) + '\n';
      const goldenPath = join(testdata, 'golden', file);
      if (process.env.UPDATE_GOLDENS || !existsSync(goldenPath)) writeFileSync(goldenPath, actual);
      expect(actual).toBe(readFileSync(goldenPath, 'utf8'));
    });
  }
});
