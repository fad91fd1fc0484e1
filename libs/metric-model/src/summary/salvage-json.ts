/*
 * A JSON reader for bodies that JSON.parse refused: a kubelet response cut off
 * mid-stream, or one with garbage in the middle. It reads up to the first error and
 * keeps only what was complete by then:
 * - an array keeps its complete elements; the element being read at the cut is
 *   dropped whole (so a half-read pod or container never looks like a real one);
 * - an object keeps its complete members and the partial contents of a member whose
 *   value is an object or array (so a cut inside `node.memory` keeps `node.cpu`);
 * - a scalar cut short (`12` of `1234`) is always dropped, never misread.
 * Only used on the slow path; well-formed bodies go through JSON.parse.
 */

export interface SalvagedJson {
  value: unknown;
  /** Byte offset (string index) where reading stopped, and why. */
  stoppedAt: number;
  error: string;
  /** JSON paths (`pods[5]`) of the outermost array elements dropped because they were incomplete. */
  droppedElements: string[];
}

class Stop extends Error {}

export function salvageJson(text: string): SalvagedJson | undefined {
  let i = 0;
  let error = '';
  const dropped: string[] = [];

  const stop = (msg: string): never => {
    error = i >= text.length ? 'body ended early (truncated)' : `invalid JSON at offset ${i}: ${msg}`;
    throw new Stop();
  };
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    while (i < text.length) {
      const c = text[i];
      if (c === '\\') i += 2;
      else if (c === '"') {
        i++;
        try {
          return JSON.parse(text.slice(start, i)) as string;
        } catch {
          i = start;
          return stop('bad string escape');
        }
      } else i++;
    }
    return stop('unterminated string');
  };
  const num = (): number => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 64));
    if (!m) return stop('bad number');
    const end = i + m[0].length;
    // A number touching the end of the body may have lost digits.
    if (end >= text.length) {
      i = end;
      return stop('number cut short');
    }
    i = end;
    return Number(m[0]);
  };
  const word = <T>(w: string, v: T): T => {
    if (text.startsWith(w, i)) {
      i += w.length;
      return v;
    }
    if (w.startsWith(text.slice(i))) {
      i = text.length;
      return stop('literal cut short');
    }
    return stop(`expected ${w}`);
  };

  // Partial containers are filled in place, so when Stop unwinds, the caller still
  // holds whatever was complete.
  const value = (path: string, into?: { partial: unknown }): unknown => {
    ws();
    if (i >= text.length) return stop('value expected');
    const c = text[i];
    if (c === '{') {
      const obj: Record<string, unknown> = {};
      if (into) into.partial = obj;
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return obj;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') return stop('member name expected');
        const key = str();
        ws();
        if (text[i] !== ':') return stop('":" expected');
        i++;
        const slot: { partial: unknown } = { partial: undefined };
        try {
          obj[key] = value(path ? `${path}.${key}` : key, slot);
        } catch (e) {
          if (e instanceof Stop && slot.partial !== undefined) obj[key] = slot.partial;
          throw e;
        }
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return obj;
        }
        return stop('"," or "}" expected');
      }
    }
    if (c === '[') {
      const arr: unknown[] = [];
      if (into) into.partial = arr;
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        try {
          arr.push(value(`${path}[${arr.length}]`));
        } catch (e) {
          if (e instanceof Stop) dropped.push(`${path}[${arr.length}]`);
          throw e;
        }
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        return stop('"," or "]" expected');
      }
    }
    if (c === '"') return str();
    if (c === 't') return word('true', true);
    if (c === 'f') return word('false', false);
    if (c === 'n') return word('null', null);
    return num();
  };

  const root: { partial: unknown } = { partial: undefined };
  try {
    const v = value('', root);
    return { value: v, stoppedAt: i, error: 'trailing characters after the JSON value', droppedElements: dropped };
  } catch (e) {
    if (!(e instanceof Stop)) throw e;
    if (root.partial === undefined) return undefined;
    // Elements inside a dropped element are implied; report the outermost only.
    const outermost = dropped.filter((p) => !dropped.some((q) => q !== p && p.startsWith(q) && '.['.includes(p[q.length]!)));
    return { value: root.partial, stoppedAt: i, error, droppedElements: outermost };
  }
}
