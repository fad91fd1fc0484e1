import { existsSync, statSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';

/*
 * Parsers for the CLI's numeric options: a bad value is refused by commander with the
 * option's name, the value and why ("error: option '-n, --limit <count>' argument 'abc'
 * is invalid. a whole number of at least 1"), and exit code 1, before anything runs.
 */

/** The number `value` spells (NaN for a blank one, which Number() would read as 0). */
const numberOf = (value: string): number => (value.trim() === '' ? Number.NaN : Number(value));

/** A whole number of at least `min`. */
export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const n = numberOf(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`a whole number of at least ${min}`);
    return n;
  };
}

/** A finite number above 0 (seconds, rates). */
export function positiveNumber(value: string): number {
  const n = numberOf(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('a number above 0');
  return n;
}

/** A finite number of at least 0. */
export function nonNegativeNumber(value: string): number {
  const n = numberOf(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('a number of at least 0');
  return n;
}

/** A path to a file that exists (kubeconfigs, payloads). */
export function existingFile(value: string): string {
  if (!existsSync(value)) throw new InvalidArgumentError('no such file');
  if (!statSync(value).isFile()) throw new InvalidArgumentError('not a file');
  return value;
}
