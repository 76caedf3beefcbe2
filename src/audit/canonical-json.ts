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
  let out: string | undefined;
  try {
    out = write(value, 0);
  } catch (error) {
    if (error instanceof Unserialisable) throw new TypeError(error.describe());
    throw error;
  }
  if (out === undefined) {
    throw new TypeError(`cannot serialise \`${typeof value}\` at \`$\`: expected a JSON value`);
  }
  return out;
}

/** SHA-256 of `data` (strings as UTF-8), as lowercase hex. */
export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Carries the failing location outwards; paths are built only when something fails. */
class Unserialisable extends Error {
  readonly path: Array<string | number> = [];
  constructor(readonly what: (at: string) => string) {
    super('unserialisable');
  }
  describe(): string {
    let at = '$';
    for (const key of this.path.reverse()) at += typeof key === 'number' ? `[${key}]` : `.${key}`;
    return this.what(at);
  }
}

// Characters JSON.stringify would escape: quote, backslash, controls, and surrogates (lone ones
// are escaped; checking all of them keeps the fast path trivially right).
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what must be found
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON string literal; the common plain string skips the call into JSON.stringify. */
function quote(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

// Deeper than this is treated as a cycle: tracking visited objects costs more than the whole walk.
const MAX_DEPTH = 512;

// Returns undefined for values JSON.stringify would omit (undefined, functions, symbols).
function write(value: unknown, depth: number): string | undefined {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) {
        throw new Unserialisable(
          (at) =>
            `cannot serialise \`${value}\` at \`${at}\`: canonical JSON needs finite numbers; store it as a string`,
        );
      }
      // ECMAScript number-to-string is what RFC 8785 prescribes (and `-0` prints as `0`).
      return String(value);
    case 'bigint':
      throw new Unserialisable(
        (at) =>
          `cannot serialise bigint \`${value}\` at \`${at}\`: convert it to a string or a safe number first`,
      );
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return 'null';
  if (depth >= MAX_DEPTH) {
    throw new Unserialisable(
      (at) => `cannot serialise a cycle (or nesting deeper than ${MAX_DEPTH}) at \`${at}\``,
    );
  }
  const obj = value as { toJSON?: (key: string) => unknown };
  if (typeof obj.toJSON === 'function') return write(obj.toJSON(''), depth + 1);
  if (Array.isArray(obj)) {
    let out = '[';
    for (let i = 0; i < obj.length; i++) {
      if (i > 0) out += ',';
      out += nested(obj[i], i, depth) ?? 'null';
    }
    return `${out}]`;
  }
  const record = obj as Record<string, unknown>;
  const keys = Object.keys(record);
  // Default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 requires.
  if (keys.length > 1) keys.sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    const item = nested(record[key], key, depth);
    if (item === undefined) continue;
    out += `${first ? '' : ','}${quote(key)}:${item}`;
    first = false;
  }
  return `${out}}`;
}

function nested(value: unknown, key: string | number, depth: number): string | undefined {
  try {
    return write(value, depth + 1);
  } catch (error) {
    if (error instanceof Unserialisable) error.path.push(key);
    throw error;
  }
}
