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

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}
