/** A part of the body that was skipped, and why. `path` is like `pods[3].containers[0].cpu.time`. */
export interface ParseIssue {
  path: string;
  reason: string;
}

export type JsonObject = Record<string, unknown>;

// InfluxDB stores integers as int64; a kubelet uint64 above that is a wrapped or
// corrupt counter, not a measurement.
const ABSURD = 2 ** 63;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
// Go's zero time.Time: what the kubelet sends for "unknown"; it means absent.
const GO_ZERO_TIME = '0001-01-01T00:00:00Z';
const EARLIEST_PLAUSIBLE = Date.UTC(2000, 0, 1);
const LATEST_PLAUSIBLE = Date.UTC(2200, 0, 1);

export const join = (path: string, key: string | number): string =>
  typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;

/**
 * Reads typed fields out of untrusted JSON. `null` and missing mean absent (no
 * issue); anything else that is not what the Summary API defines is recorded as an
 * issue and treated as absent, so one bad field never costs more than itself.
 */
export class FieldReader {
  readonly issues: ParseIssue[] = [];
  /** Latest sample time seen, a default for the scrape window. */
  latestTime: number | undefined;
  private readonly times = new Map<string, number>();

  issue(path: string, reason: string): void {
    this.issues.push({ path, reason });
  }

  object(value: unknown, path: string): JsonObject | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'object' && !Array.isArray(value)) return value as JsonObject;
    this.issue(path, `expected an object, got ${describe(value)}`);
    return undefined;
  }

  array(value: unknown, path: string): unknown[] | undefined {
    if (value === undefined || value === null) return undefined;
    if (Array.isArray(value)) return value;
    this.issue(path, `expected an array, got ${describe(value)}`);
    return undefined;
  }

  /** The value `v` of field `key` of the object at `path`; the same for `uint` and `time`. */
  string(v: unknown, path: string, key: string): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v === '' ? undefined : v;
    this.issue(join(path, key), `expected a string, got ${describe(v)}`);
    return undefined;
  }

  uint(v: unknown, path: string, key: string): number | undefined {
    // The common case first; the path is only built for an issue (this runs for every number in the body).
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < ABSURD) return v;
    if (v === undefined || v === null) return undefined;
    const at = join(path, key);
    if (typeof v !== 'number' || !Number.isFinite(v)) this.issue(at, `expected a number, got ${describe(v)}`);
    else if (v < 0) this.issue(at, `negative value ${v}`);
    else if (!Number.isInteger(v)) this.issue(at, `expected an integer, got ${v}`);
    else this.issue(at, `absurd value ${v} (>= 2^63)`);
    return undefined;
  }

  time(v: unknown, path: string, key: string): number | undefined {
    if (v === undefined || v === null || v === GO_ZERO_TIME) return undefined;
    // A body repeats a few sample times hundreds of times: validate and parse each once.
    let ms = typeof v === 'string' ? this.times.get(v) : undefined;
    if (ms === undefined) {
      ms = this.parseTime(v, path, key);
      if (ms === undefined) return undefined;
      this.times.set(v as string, ms);
    }
    if (key === 'time' && (this.latestTime === undefined || ms > this.latestTime)) this.latestTime = ms;
    return ms;
  }

  private parseTime(v: unknown, path: string, key: string): number | undefined {
    if (typeof v === 'string') {
      const quick = kubeletTime(v);
      if (!Number.isNaN(quick)) return quick;
    }
    const at = join(path, key);
    if (typeof v !== 'string' || !RFC3339.test(v)) {
      this.issue(at, `expected an RFC 3339 time, got ${describe(v)}`);
      return undefined;
    }
    const ms = Date.parse(v);
    if (!(ms >= EARLIEST_PLAUSIBLE && ms < LATEST_PLAUSIBLE)) {
      this.issue(at, `implausible time ${v}`);
      return undefined;
    }
    return ms;
  }
}

/**
 * Epoch ms of `YYYY-MM-DDTHH:MM:SSZ` (what every kubelet sends) in 2000..2199, else NaN
 * and the caller falls back to Date.parse, which costs about three times as much. Equal
 * to Date.parse wherever it is not NaN, including its day overflow (April 31 is May 1).
 */
export function kubeletTime(s: string): number {
  if (s.length !== 20 || s[4] !== '-' || s[7] !== '-' || s[10] !== 'T' || s[13] !== ':' || s[16] !== ':' || s[19] !== 'Z') return NaN;
  const year = digits(s, 0, 4);
  const month = digits(s, 5, 7);
  const day = digits(s, 8, 10);
  const hour = digits(s, 11, 13);
  const minute = digits(s, 14, 16);
  const second = digits(s, 17, 19);
  if (year < 2000 || year >= 2200 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return NaN;
  // Days from 1970-01-01 to the date, counting years from March so that leap days come last.
  const y = month <= 2 ? year - 1 : year;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const days = y * 365 + Math.floor(y / 4) - Math.floor(y / 100) + Math.floor(y / 400) + dayOfYear - 719_468;
  return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000;
}

/** The decimal number in s[from, to), or -1 when a character there is not a digit. */
function digits(s: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
