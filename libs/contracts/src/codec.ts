import { z } from 'zod';
import { majorOf, SCHEMA_VERSION_HEADER } from './version.js';

export type DecodeErrorReason =
  | 'empty' // null or zero-length value
  | 'invalid-json'
  | 'not-an-object'
  | 'missing-version'
  | 'unsupported-version' // major version this build does not read
  | 'invalid-record'; // JSON fine, schema validation failed

export interface DecodeIssue {
  path: string;
  message: string;
}

/** Why a record could not be decoded. Returned, never thrown, by `Codec.decode`. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
  constructor(
    readonly schema: string,
    readonly reason: DecodeErrorReason,
    message: string,
    readonly issues: DecodeIssue[] = [],
  ) {
    super(`${schema}: ${reason}: ${message}`);
  }
}

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: DecodeError };

/** Kafka-style headers (kafkajs IHeaders is assignable). */
export type RecordHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

export interface Codec<T extends { schemaVersion: string }> {
  readonly schemaName: string;
  /** Version this build writes, "major.minor". */
  readonly version: string;
  /** The schema of the wire form (what the JSON Schema file publishes). */
  readonly schema: z.ZodType;
  /** JSON bytes; stamps `schemaVersion` with this build's version. */
  encode(value: Omit<T, 'schemaVersion'> & { schemaVersion?: string }): Buffer;
  /** Headers to send with every encoded record. */
  headers(): Record<string, string>;
  /** Validated value or a DecodeError; never throws. */
  decode(bytes: Buffer | string | null | undefined, headers?: RecordHeaders): DecodeResult<T>;
}

function headerText(headers: RecordHeaders | undefined, name: string): string | undefined {
  const raw = headers?.[name];
  const one = Array.isArray(raw) ? raw[0] : raw;
  return one === undefined ? undefined : one.toString();
}

/**
 * How a codec's values look on the wire when that differs from the value (a grouped or
 * compact form), and a fast path for decoding. All optional:
 *  - `exact(json)`: the value when the JSON is exactly what the schema accepts (nothing to
 *    strip), without zod; undefined sends it through zod, which accepts (stripping unknown
 *    keys) or explains why not. The hot paths read hundreds of thousands of points a
 *    second, and walking them with zod costs more than JSON.parse.
 *  - `toWire(value)`: the object to serialize (default: the value itself).
 *  - `fromWire(parsed)`: the value from what zod accepted (default: the parsed object).
 */
export interface WireForm<T, W> {
  exact?: (json: Record<string, unknown>) => T | undefined;
  toWire?: (value: Omit<T, 'schemaVersion'> & { schemaVersion?: string }) => Omit<W, 'schemaVersion'>;
  fromWire?: (parsed: W) => T;
}

/** `schema` describes the wire form `W`; values are `T` (the same unless `wire` converts). */
export function createCodec<W extends { schemaVersion: string }, T extends { schemaVersion: string } = W>(
  schemaName: string,
  version: string,
  schema: z.ZodType<W>,
  wire: WireForm<T, W> = {},
): Codec<T> {
  const major = majorOf(version);
  const fail = (reason: DecodeErrorReason, message: string, issues?: DecodeIssue[]): DecodeResult<T> => ({
    ok: false,
    error: new DecodeError(schemaName, reason, message, issues),
  });
  const checkVersion = (v: string, where: string): DecodeResult<T> | undefined => {
    const m = majorOf(v);
    if (m === undefined) return fail('unsupported-version', `${where} "${v}" is not "major.minor"`);
    if (m !== major) return fail('unsupported-version', `${where} ${v} has major ${m}; this build reads major ${major}`);
    return undefined;
  };

  return {
    schemaName,
    version,
    schema,
    encode(value) {
      const body = wire.toWire ? wire.toWire(value) : value;
      return Buffer.from(JSON.stringify({ ...body, schemaVersion: version }), 'utf8');
    },
    headers() {
      return { [SCHEMA_VERSION_HEADER]: version };
    },
    decode(bytes, headers) {
      // A header lets us refuse a foreign major before paying for JSON.parse.
      const headerVersion = headerText(headers, SCHEMA_VERSION_HEADER);
      if (headerVersion !== undefined) {
        const bad = checkVersion(headerVersion, 'header version');
        if (bad) return bad;
      }
      if (bytes == null || bytes.length === 0) return fail('empty', 'record has no value');
      let json: unknown;
      try {
        json = JSON.parse(typeof bytes === 'string' ? bytes : bytes.toString('utf8'));
      } catch (err) {
        return fail('invalid-json', err instanceof Error ? err.message : String(err));
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) {
        return fail('not-an-object', `expected a JSON object, got ${Array.isArray(json) ? 'array' : typeof json}`);
      }
      const v = (json as { schemaVersion?: unknown }).schemaVersion;
      if (typeof v !== 'string') return fail('missing-version', 'field schemaVersion is missing or not a string');
      const bad = checkVersion(v, 'schemaVersion');
      if (bad) return bad;
      const exact = wire.exact?.(json as Record<string, unknown>);
      if (exact) return { ok: true, value: exact };
      const parsed = schema.safeParse(json);
      if (!parsed.success) {
        const issues = parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
        const first = issues[0];
        const more = issues.length > 1 ? ` (+${issues.length - 1} more)` : '';
        return fail('invalid-record', first ? `${first.path || '(root)'}: ${first.message}${more}` : 'invalid', issues);
      }
      return { ok: true, value: wire.fromWire ? wire.fromWire(parsed.data) : (parsed.data as unknown as T) };
    },
  };
}
