/**
 * Key-path "shape" of a JSON document: every path to a leaf with its JSON type,
 * arrays collapsed to `[]`. Used to compare simulator payloads with real fixtures.
 */
export function shapeOf(value: unknown, prefix = '', out = new Map<string, Set<string>>()): Map<string, Set<string>> {
  const add = (type: string) => {
    let s = out.get(prefix);
    if (!s) out.set(prefix, (s = new Set()));
    s.add(type);
  };
  if (value === null) add('null');
  else if (Array.isArray(value)) {
    add('array');
    for (const v of value) shapeOf(v, `${prefix}[]`, out);
  } else if (typeof value === 'object') {
    add('object');
    for (const [k, v] of Object.entries(value)) shapeOf(v, prefix ? `${prefix}.${k}` : k, out);
  } else add(typeof value);
  return out;
}

/** Paths (and types) present in `actual` but not in `reference`. */
export function shapeDifference(actual: Map<string, Set<string>>, reference: Map<string, Set<string>>): string[] {
  const extra: string[] = [];
  for (const [path, types] of actual) {
    const ref = reference.get(path);
    if (!ref) extra.push(path);
    else for (const t of types) if (!ref.has(t)) extra.push(`${path}:${t}`);
  }
  return extra;
}

export function mergeShapes(...shapes: Map<string, Set<string>>[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const s of shapes) for (const [k, v] of s) out.set(k, new Set([...(out.get(k) ?? []), ...v]));
  return out;
}
