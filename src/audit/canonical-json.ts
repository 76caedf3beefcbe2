import { createHash } from 'node:crypto';

/**
 * Serialises a JSON value per RFC 8785 (JCS): object keys sorted by UTF-16 code units, numbers and
 * strings in ECMAScript `JSON.stringify` form, no whitespace. Like `JSON.stringify`, it calls
 * `toJSON`, drops `undefined`/function object fields and writes them as `null` inside arrays.
 * Throws on values JSON cannot carry faithfully: non-finite numbers, bigints, cycles.
 *
 * @example
 * canonicalJson({ b: 1, a: [true, null] }); // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  const out = write(value, '$', new Set());
  if (out === undefined) {
    throw new TypeError(`cannot serialise \`${typeof value}\` at \`$\`: expected a JSON value`);
  }
  return out;
}

/** SHA-256 of `data` (strings as UTF-8), as lowercase hex. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

// Returns undefined for values JSON.stringify would omit (undefined, functions, symbols).
function write(value: unknown, path: string, seen: Set<object>): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) {
        throw new TypeError(
          `cannot serialise \`${value}\` at \`${path}\`: canonical JSON needs finite numbers; store it as a string`,
        );
      }
      return JSON.stringify(value);
    case 'bigint':
      throw new TypeError(
        `cannot serialise bigint \`${value}\` at \`${path}\`: convert it to a string or a safe number first`,
      );
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  const obj = value as { toJSON?: (key: string) => unknown };
  if (typeof obj.toJSON === 'function') return write(obj.toJSON(path), path, seen);
  if (seen.has(obj))
    throw new TypeError(`cannot serialise a cycle at \`${path}\`: remove the back-reference`);
  seen.add(obj);
  let out: string;
  if (Array.isArray(obj)) {
    const parts = obj.map((item, i) => write(item, `${path}[${i}]`, seen) ?? 'null');
    out = `[${parts.join(',')}]`;
  } else {
    // Default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 requires.
    const keys = Object.keys(obj).sort();
    const parts: string[] = [];
    for (const key of keys) {
      const item = write((obj as Record<string, unknown>)[key], `${path}.${key}`, seen);
      if (item !== undefined) parts.push(`${JSON.stringify(key)}:${item}`);
    }
    out = `{${parts.join(',')}}`;
  }
  seen.delete(obj);
  return out;
}
