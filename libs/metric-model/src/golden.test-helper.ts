import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';

const TESTDATA = new URL('../testdata/', import.meta.url);

export function readTestdata(name: string): Buffer {
  return readFileSync(new URL(name, TESTDATA));
}

/** Compares with testdata/golden/<name>; UPDATE_GOLDENS=1 rewrites the file instead. */
export function expectGolden(name: string, actual: string): void {
  const file = new URL(`golden/${name}`, TESTDATA);
  if (process.env.UPDATE_GOLDENS === '1') {
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) throw new Error(`golden ${name} is missing; run with UPDATE_GOLDENS=1`);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}
