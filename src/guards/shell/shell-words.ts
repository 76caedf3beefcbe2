import type { Node } from './shell-parser.js';

/**
 * A shell word as the guard sees it: its static value when the shell would produce exactly one
 * known string, and what makes it unknowable otherwise.
 */
export interface Word {
  /** Source text, for messages. */
  text: string;
  /** The value after quote removal, when it is static; undefined when an expansion feeds it. */
  value?: string;
  /** Parameter, command, arithmetic or process substitution: the value is unknown at check time. */
  dynamic: boolean;
  /** Unquoted glob (`*`, `?`, `[`), brace (`{a,b}`, `{1..3}`) or tilde expansion: several or other values. */
  expands: boolean;
  /** Written with ANSI-C quoting (`$'…'`), which can spell any byte. */
  ansiC: boolean;
}

/** Nodes inside words whose contents are statements the shell runs. */
export const SUBSTITUTIONS = new Set(['command_substitution', 'process_substitution']);

const GLOB = /(?<!\\)[*?[]/;
const BRACE = /\{[^{}]*(,|\.\.)[^{}]*\}/;

/** Evaluates a word-like node. `nested` receives each substitution inside it, to be walked. */
export function evaluateWord(node: Node, nested: (substitution: Node) => void): Word {
  const word: Word = { text: node.text, dynamic: false, expands: false, ansiC: false };
  const value = wordValue(node, word, nested, true);
  if (value !== undefined && !word.dynamic) word.value = value;
  if (node.type === 'concatenation' || node.type === 'word') {
    const unquoted = node.type === 'word' ? node.text : unquotedText(node);
    if (BRACE.test(unquoted)) word.expands = true;
  }
  return word;
}

function unquotedText(node: Node): string {
  return node.namedChildren
    .filter((c): c is Node => c !== null && (c.type === 'word' || c.type === 'number'))
    .map((c) => c.text)
    .join('\u0001');
}

function wordValue(node: Node, word: Word, nested: (n: Node) => void, top: boolean): string | undefined {
  switch (node.type) {
    case 'word': {
      const text = node.text;
      if (GLOB.test(text) || (top && text.startsWith('~'))) word.expands = true;
      return unescapeUnquoted(text);
    }
    case 'number':
      return node.text;
    case 'raw_string':
      return node.text.slice(1, -1);
    case 'ansi_c_string':
      word.ansiC = true;
      return decodeAnsiC(node.text.slice(2, -1));
    case 'string':
    case 'translated_string': {
      let dynamic = false;
      for (const child of node.namedChildren) {
        if (!child || child.type === 'string_content') continue;
        dynamic = true;
        scan(child, nested);
      }
      if (dynamic) {
        word.dynamic = true;
        return undefined;
      }
      const inner = node.type === 'string' ? node.text.slice(1, -1) : node.text.slice(2, -1);
      return inner.replace(/\\([$`"\\\n])/g, (_m, c: string) => (c === '\n' ? '' : c));
    }
    case 'concatenation': {
      let out = '';
      for (const [i, child] of node.namedChildren.entries()) {
        if (!child) continue;
        if (child.type === 'word' && i === 0 && child.text.startsWith('~')) word.expands = true;
        const part = wordValue(child, word, nested, false);
        if (part === undefined) return undefined;
        out += part;
      }
      return word.dynamic ? undefined : out;
    }
    default:
      // simple_expansion, expansion, command/process/arithmetic substitution, brace_expression,
      // extglob patterns, arrays…: not a single known string.
      word.dynamic = true;
      if (node.type === 'brace_expression' || node.type === 'extglob_pattern') word.expands = true;
      scan(node, nested);
      return undefined;
  }
}

/** Finds substitutions anywhere below `node` (in expansions' defaults, subscripts, arithmetic…). */
export function scan(node: Node, nested: (n: Node) => void): void {
  if (SUBSTITUTIONS.has(node.type)) {
    nested(node);
    return;
  }
  for (const child of node.namedChildren) if (child) scan(child, nested);
}

function unescapeUnquoted(text: string): string {
  return text.replace(/\\(\n|.)/g, (_m, c: string) => (c === '\n' ? '' : c));
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  e: '\x1b',
  E: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '?': '?',
};

/** Bash's `$'…'` escapes: `\n`, `\xHH`, `\NNN` (octal), `\uHHHH`, `\UHHHHHHHH`, `\cX`. */
export function decodeAnsiC(body: string): string {
  return body.replace(
    /\\(x[0-9a-fA-F]{1,2}|u[0-9a-fA-F]{1,4}|U[0-9a-fA-F]{1,8}|[0-7]{1,3}|c.|.)/g,
    (_m, e: string) => {
      const head = e[0] as string;
      if (head === 'x' || head === 'u' || head === 'U')
        return String.fromCodePoint(Number.parseInt(e.slice(1), 16));
      if (/[0-7]/.test(head)) return String.fromCharCode(Number.parseInt(e, 8) & 0xff);
      if (head === 'c' && e.length === 2) return String.fromCharCode(e.charCodeAt(1) & 0x1f);
      return SIMPLE_ESCAPES[e] ?? `\\${e}`;
    },
  );
}

/**
 * Bash brace expansion of one word (`a{b,c}d`, `{1..3}`, nested), or undefined when it makes more
 * than 256 words (the guard would rather refuse than enumerate).
 */
export function expandBraces(word: string, budget = { left: 256 }): string[] | undefined {
  let depth = 0;
  let open = -1;
  for (let i = 0; i < word.length; i++) {
    const c = word[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '{') {
      if (depth === 0) open = i;
      depth++;
    } else if (c === '}' && depth > 0) {
      depth--;
      if (depth !== 0) continue;
      const body = word.slice(open + 1, i);
      const parts = splitTop(body);
      const range = /^(-?\d+|[a-zA-Z])\.\.(-?\d+|[a-zA-Z])$/.exec(body);
      let options: string[] | undefined;
      if (parts.length > 1) options = parts;
      else if (range) options = rangeOf(range[1] as string, range[2] as string);
      if (!options) continue; // `{x}` and `{}` are literal
      const out: string[] = [];
      for (const option of options) {
        const rest = expandBraces(word.slice(0, open) + option + word.slice(i + 1), budget);
        if (!rest) return undefined;
        out.push(...rest);
        budget.left -= rest.length;
        if (budget.left < 0) return undefined;
      }
      return out;
    }
  }
  return [word];
}

function splitTop(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}

function rangeOf(from: string, to: string): string[] | undefined {
  const numeric = /^-?\d+$/.test(from) && /^-?\d+$/.test(to);
  const a = numeric ? Number(from) : from.charCodeAt(0);
  const b = numeric ? Number(to) : to.charCodeAt(0);
  if (Math.abs(b - a) > 256) return undefined;
  const out: string[] = [];
  for (let v = a; a <= b ? v <= b : v >= b; v += a <= b ? 1 : -1)
    out.push(numeric ? String(v) : String.fromCharCode(v));
  return out;
}
