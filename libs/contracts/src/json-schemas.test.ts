import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCHEMAS_DIR } from './generate-schemas.js';
import { renderJsonSchemas } from './json-schemas.js';
import { TOPICS } from './topics.js';

describe('committed JSON Schema files', () => {
  const rendered = renderJsonSchemas();

  it.each(Object.keys(rendered))('%s matches the zod schema (run `tsx libs/contracts/src/generate-schemas.ts`)', (file) => {
    expect(readFileSync(`${SCHEMAS_DIR}${file}`, 'utf8')).toBe(rendered[file]);
  });

  it('has no stray files and every topic names existing files', () => {
    expect(readdirSync(SCHEMAS_DIR).sort()).toEqual(Object.keys(rendered).sort());
    for (const t of Object.values(TOPICS)) for (const f of t.schemaFiles) expect(Object.keys(rendered)).toContain(f);
  });
});
