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
  // A toJSON may canonicalise something itself: keep the caller's pieces aside meanwhile.
  const outer = parts;
  const outerCount = count;
  const outerBusy = busy;
  if (busy) parts = [];
  busy = true;
  count = 0;
  try {
    if (!emit(value, 0, false, '')) {
      throw new TypeError(`cannot serialise \`${typeof value}\` at \`$\`: expected a JSON value`);
    }
    if (parts.length !== count) parts.length = count;
    return parts.join('');
  } catch (error) {
    if (error instanceof Unserialisable) throw new TypeError(error.describe());
    throw error;
  } finally {
    if (outerBusy) parts = outer;
    // The pieces stay in the array until the next call: only a small array is kept for reuse.
    else if (parts.length > 4096) parts = [];
    count = outerCount;
    busy = outerBusy;
  }
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

/**
 * A string's JSON literal, as {@link canonicalJson} writes it; the common plain string skips the
 * call into JSON.stringify.
 */
export function jsonString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

// Deeper than this is treated as a cycle: tracking visited objects costs more than the whole walk.
const MAX_DEPTH = 512;

// Hand-written for speed: every audit record is canonicalised before it is hashed. The pieces
// go into one reused array, joined once into a flat string (appending to a string built a cons
// string per piece, ~2.7 KB of garbage per decision record), and keys are sorted in place.
let parts: string[] = [];
let count = 0;
/** Whether a canonicalJson call is under way (a toJSON calling it again gets an array of its own). */
let busy = false;

/**
 * Appends a comma when `comma`, then `prefix` and the JSON of `value`, to `out`; false,
 * appending nothing, for values JSON.stringify would omit (undefined, functions, symbols).
 */
function emit(value: unknown, depth: number, comma: boolean, prefix: string): boolean {
  switch (typeof value) {
    case 'string':
      if (comma) parts[count++] = ',';
      if (prefix !== '') parts[count++] = prefix;
      // A plain string goes in between two quote pieces: no quoted copy of it is made.
      if (NEEDS_ESCAPE.test(value)) {
        parts[count++] = JSON.stringify(value);
      } else {
        parts[count++] = '"';
        parts[count++] = value;
        parts[count++] = '"';
      }
      return true;
    case 'boolean':
      if (comma) parts[count++] = ',';
      if (prefix !== '') parts[count++] = prefix;
      parts[count++] = value ? 'true' : 'false';
      return true;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new Unserialisable(
          (at) =>
            `cannot serialise \`${value}\` at \`${at}\`: canonical JSON needs finite numbers; store it as a string`,
        );
      }
      // ECMAScript number-to-string is what RFC 8785 prescribes (and `-0` prints as `0`).
      if (comma) parts[count++] = ',';
      if (prefix !== '') parts[count++] = prefix;
      parts[count++] = String(value);
      return true;
    case 'bigint':
      throw new Unserialisable(
        (at) =>
          `cannot serialise bigint \`${value}\` at \`${at}\`: convert it to a string or a safe number first`,
      );
    case 'undefined':
    case 'function':
    case 'symbol':
      return false;
  }
  if (value === null) {
    if (comma) parts[count++] = ',';
    if (prefix !== '') parts[count++] = prefix;
    parts[count++] = 'null';
    return true;
  }
  if (depth >= MAX_DEPTH) {
    throw new Unserialisable(
      (at) => `cannot serialise a cycle (or nesting deeper than ${MAX_DEPTH}) at \`${at}\``,
    );
  }
  const obj = value as { toJSON?: (key: string) => unknown };
  if (typeof obj.toJSON === 'function') return emit(obj.toJSON(''), depth + 1, comma, prefix);
  if (comma) parts[count++] = ',';
  if (prefix !== '') parts[count++] = prefix;
  if (Array.isArray(obj)) {
    parts[count++] = '[';
    for (let i = 0; i < obj.length; i++) {
      if (!nested(obj[i], i, depth, i > 0, '')) parts[count++] = i > 0 ? ',null' : 'null';
    }
    parts[count++] = ']';
    return true;
  }
  const record = obj as Record<string, unknown>;
  const keys = Object.keys(record);
  sortKeys(keys);
  parts[count++] = '{';
  let first = true;
  for (const key of keys) {
    if (nested(record[key], key, depth, !first, keyPrefix(key))) first = false;
  }
  parts[count++] = '}';
  return true;
}

function nested(
  value: unknown,
  key: string | number,
  depth: number,
  comma: boolean,
  prefix: string,
): boolean {
  try {
    return emit(value, depth + 1, comma, prefix);
  } catch (error) {
    if (error instanceof Unserialisable) error.path.push(key);
    throw error;
  }
}

// `"key":` of the keys seen so far: records repeat a few keys, and building the prefix was a
// string allocation per key per record. Bounded, so that arbitrary keys cannot grow it.
const KEY_PREFIXES = new Map<string, string>();

function keyPrefix(key: string): string {
  let prefix = KEY_PREFIXES.get(key);
  if (prefix === undefined) {
    prefix = `${jsonString(key)}:`;
    if (KEY_PREFIXES.size < 2048 && key.length <= 64) KEY_PREFIXES.set(key, prefix);
  }
  return prefix;
}

/**
 * Sorts by UTF-16 code units (RFC 8785 §3.2.3; what `<` on strings compares). Insertion sort in
 * place for the few keys records have: Array#sort allocates a work area on every call.
 */
function sortKeys(keys: string[]): void {
  if (keys.length > 16) {
    keys.sort();
    return;
  }
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i] as string;
    let j = i - 1;
    while (j >= 0 && (keys[j] as string) > key) {
      keys[j + 1] = keys[j] as string;
      j--;
    }
    keys[j + 1] = key;
  }
}
