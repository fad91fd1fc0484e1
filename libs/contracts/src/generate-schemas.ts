// Writes libs/contracts/schemas/*.json from the zod schemas: `tsx libs/contracts/src/generate-schemas.ts`.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderJsonSchemas } from './json-schemas.js';

export const SCHEMAS_DIR = fileURLToPath(new URL('../schemas/', import.meta.url));

export function writeJsonSchemas(dir = SCHEMAS_DIR): string[] {
  const files = renderJsonSchemas();
  for (const [name, text] of Object.entries(files)) writeFileSync(`${dir}${name}`, text);
  return Object.keys(files);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const name of writeJsonSchemas()) console.log(`wrote ${SCHEMAS_DIR}${name}`);
}
