/*
 * Just enough line-protocol reading to match InfluxDB's error messages to the lines
 * that caused them (a field type conflict names a measurement, a field and a type).
 * The writer produces the lines, so only valid escaping has to be understood.
 */

export type FieldType = 'integer' | 'float' | 'string' | 'boolean' | 'unsigned';

export interface LineHead {
  measurement: string;
  fields: Map<string, FieldType>;
}

function unescape(s: string): string {
  return s.includes('\\') ? s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c === 'r' ? '\r' : c === 't' ? '\t' : c)) : s;
}

function fieldType(value: string): FieldType {
  if (value.startsWith('"')) return 'string';
  const last = value[value.length - 1];
  if (last === 'i') return 'integer';
  if (last === 'u') return 'unsigned';
  if (/^(t|T|true|True|TRUE|f|F|false|False|FALSE)$/.test(value)) return 'boolean';
  return 'float';
}

/** Measurement and field types of one line, or undefined when it cannot be read. */
export function parseLineHead(line: string): LineHead | undefined {
  let i = 0;
  // measurement: up to an unescaped comma or space
  let measurementEnd = -1;
  let keyEnd = -1;
  for (; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (measurementEnd < 0 && (c === ',' || c === ' ')) measurementEnd = i;
    if (c === ' ') {
      keyEnd = i;
      break;
    }
  }
  if (keyEnd < 0) return undefined;
  const measurement = unescape(line.slice(0, measurementEnd));
  const fields = new Map<string, FieldType>();
  i = keyEnd + 1;
  while (i < line.length) {
    // field key up to unescaped '='
    let k = i;
    for (; k < line.length && line[k] !== '='; k++) if (line[k] === '\\') k++;
    const key = unescape(line.slice(i, k));
    let v = k + 1;
    if (line[v] === '"') {
      for (v++; v < line.length && line[v] !== '"'; v++) if (line[v] === '\\') v++;
      v++;
    } else {
      while (v < line.length && line[v] !== ',' && line[v] !== ' ') v++;
    }
    fields.set(key, fieldType(line.slice(k + 1, v)));
    if (line[v] !== ',') break;
    i = v + 1;
  }
  return { measurement, fields };
}

const TYPE_CONFLICT = /input field "((?:[^"\\]|\\.)*)" on measurement "((?:[^"\\]|\\.)*)" is type (\w+), already exists as type (\w+)/g;
const UNABLE_TO_PARSE = /unable to parse '((?:[^'\\]|\\.)*?)': /g;

/**
 * Indices (into `lines`) of the lines an InfluxDB error message points at, by the
 * messages 1.x, 2.x and 3.x send. Empty when the message names no line.
 */
export function linesNamedBy(message: string, lines: readonly string[], indices: readonly number[]): Set<number> {
  const out = new Set<number>();
  // InfluxDB 3: {"error":"partial write of line protocol occurred","data":[{"line_number":2,...}]}
  try {
    const json = JSON.parse(message) as { data?: { line_number?: number }[] };
    for (const d of json.data ?? []) {
      const idx = d.line_number !== undefined ? indices[d.line_number - 1] : undefined;
      if (idx !== undefined) out.add(idx);
    }
    if (out.size) return out;
  } catch {
    // not JSON
  }
  const quoted = new Set<string>();
  for (const m of message.matchAll(UNABLE_TO_PARSE)) quoted.add(m[1]!.replace(/\\'/g, "'"));
  const conflicts: { field: string; measurement: string; type: string }[] = [];
  for (const m of message.matchAll(TYPE_CONFLICT)) conflicts.push({ field: unescape(m[1]!), measurement: unescape(m[2]!), type: m[3]! });
  if (quoted.size === 0 && conflicts.length === 0) return out;
  for (const idx of indices) {
    const line = lines[idx]!;
    if (quoted.has(line)) {
      out.add(idx);
      continue;
    }
    if (conflicts.length) {
      const head = parseLineHead(line);
      if (head && conflicts.some((c) => c.measurement === head.measurement && head.fields.get(c.field) === c.type)) out.add(idx);
    }
  }
  return out;
}

/** `dropped=N` from a 1.x partial-write message. */
export function droppedCount(message: string): number | undefined {
  const m = /dropped=(\d+)/.exec(message);
  return m ? Number(m[1]) : undefined;
}
