/**
 * The syntax of JavaScript regexes, as far as the regexes picomatch compiles globs into use it:
 * parsed into a tree for lookahead-regex.ts to run, and for `backtracksLinearly` to judge.
 */

export type CharTest = (c: number) => boolean;
export type Ast =
  | { t: 'char'; test: CharTest }
  | { t: 'seq'; items: Ast[] }
  | { t: 'alt'; options: Ast[] }
  | { t: 'repeat'; body: Ast; min: number; max: number }
  | { t: 'bol' }
  | { t: 'eol' }
  | { t: 'look'; body: Ast; negate: boolean };

const LINE_TERMINATORS = new Set([0x0a, 0x0d, 0x2028, 0x2029]);
const isDigit: CharTest = (c) => c >= 0x30 && c <= 0x39;
const isWord: CharTest = (c) =>
  isDigit(c) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
const isSpace: CharTest = (c) => /\s/.test(String.fromCharCode(c));

/** Parses `source` (flags: only `i` matters); throws an `Error` naming what it cannot take. */
export function parseRegex(source: string, flags = ''): Ast {
  const parser = new Parser(source, flags.includes('i'));
  const ast = parser.parseAlternation();
  if (parser.at < source.length) throw new Error(`unexpected \`)\` at ${parser.at} in regex \`${source}\``);
  return ast;
}

class Parser {
  at = 0;
  constructor(
    private readonly src: string,
    private readonly nocase: boolean,
  ) {}

  parseAlternation(): Ast {
    const options = [this.parseSequence()];
    while (this.src[this.at] === '|') {
      this.at++;
      options.push(this.parseSequence());
    }
    return options.length === 1 ? (options[0] as Ast) : { t: 'alt', options };
  }

  private parseSequence(): Ast {
    const items: Ast[] = [];
    while (this.at < this.src.length && this.src[this.at] !== '|' && this.src[this.at] !== ')') {
      const atom = this.parseAtom();
      items.push(this.parseQuantifier(atom));
    }
    return { t: 'seq', items };
  }

  private parseQuantifier(atom: Ast): Ast {
    const ch = this.src[this.at];
    let min: number;
    let max: number;
    if (ch === '*' || ch === '+' || ch === '?') {
      this.at++;
      [min, max] = ch === '*' ? [0, Infinity] : ch === '+' ? [1, Infinity] : [0, 1];
    } else if (ch === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.at));
      if (!m) return atom;
      this.at += m[0].length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    } else return atom;
    if (this.src[this.at] === '?') this.at++; // lazy: the same language
    return this.parseQuantifier({ t: 'repeat', body: atom, min, max });
  }

  private parseAtom(): Ast {
    const ch = this.src[this.at++] as string;
    switch (ch) {
      case '^':
        return { t: 'bol' };
      case '$':
        return { t: 'eol' };
      case '.':
        return { t: 'char', test: (c) => !LINE_TERMINATORS.has(c) };
      case '[':
        return this.parseClass();
      case '\\':
        return { t: 'char', test: this.caseless(this.parseEscape(false)) };
      case '(':
        return this.parseGroup();
      default:
        return { t: 'char', test: this.caseless(single(ch.charCodeAt(0))) };
    }
  }

  private parseGroup(): Ast {
    let look: boolean | undefined;
    if (this.src.startsWith('?:', this.at)) this.at += 2;
    else if (this.src.startsWith('?=', this.at) || this.src.startsWith('?!', this.at)) {
      look = this.src[this.at + 1] === '!';
      this.at += 2;
    } else if (this.src.startsWith('?<', this.at)) {
      const named = /^\?<([A-Za-z_$][\w$]*)>/.exec(this.src.slice(this.at));
      if (!named) throw new Error(`lookbehind is not supported (regex \`${this.src}\`)`);
      this.at += named[0].length;
    }
    const body = this.parseAlternation();
    if (this.src[this.at] !== ')') throw new Error(`unclosed group in regex \`${this.src}\``);
    this.at++;
    return look === undefined ? body : { t: 'look', body, negate: look };
  }

  private parseClass(): Ast {
    const negate = this.src[this.at] === '^';
    if (negate) this.at++;
    const parts: CharTest[] = [];
    while (this.src[this.at] !== ']') {
      if (this.at >= this.src.length) throw new Error(`unclosed class in regex \`${this.src}\``);
      const from = this.classAtom();
      if (this.src[this.at] === '-' && this.src[this.at + 1] !== ']' && typeof from === 'number') {
        const save = this.at;
        this.at++;
        const to = this.classAtom();
        if (typeof to === 'number') {
          parts.push((c) => c >= from && c <= to);
          continue;
        }
        this.at = save; // `[a-\d]`: the `-` is literal
      }
      parts.push(typeof from === 'number' ? single(from) : from);
    }
    this.at++;
    const inClass = this.caseless((c) => parts.some((p) => p(c)));
    return { t: 'char', test: negate ? (c) => !inClass(c) : inClass };
  }

  /** A class member: a code unit, or a test for `\d`-style escapes. */
  private classAtom(): number | CharTest {
    const ch = this.src[this.at++] as string;
    if (ch !== '\\') return ch.charCodeAt(0);
    if (this.src[this.at] === 'b') {
      this.at++;
      return 0x08;
    }
    const escaped = this.parseEscape(true);
    return escaped.code ?? escaped;
  }

  private parseEscape(inClass: boolean): CharTest & { code?: number } {
    const ch = this.src[this.at++];
    if (ch === undefined) throw new Error(`regex \`${this.src}\` ends with \`\\\``);
    const known: Record<string, CharTest> = {
      d: isDigit,
      D: (c) => !isDigit(c),
      w: isWord,
      W: (c) => !isWord(c),
      s: isSpace,
      S: (c) => !isSpace(c),
    };
    const cls = known[ch];
    if (cls) return cls;
    const controls: Record<string, number> = { n: 10, r: 13, t: 9, v: 11, f: 12, '0': 0 };
    if (ch in controls && !(ch === '0' && isDigit(this.src.charCodeAt(this.at))))
      return codeTest(controls[ch] as number, inClass);
    if ((ch === 'b' || ch === 'B') && !inClass)
      throw new Error(`\`\\${ch}\` is not supported (regex \`${this.src}\`)`);
    if (/[1-9]/.test(ch)) throw new Error(`backreferences are not supported (regex \`${this.src}\`)`);
    const hex = ch === 'x' ? /^[0-9a-fA-F]{2}/ : ch === 'u' ? /^[0-9a-fA-F]{4}/ : undefined;
    if (hex) {
      const m = hex.exec(this.src.slice(this.at));
      if (m) {
        this.at += m[0].length;
        return codeTest(Number.parseInt(m[0], 16), inClass);
      }
    }
    if (ch === 'c' && /[A-Za-z]/.test(this.src[this.at] ?? '')) {
      return codeTest(this.src.charCodeAt(this.at++) % 32, inClass);
    }
    return codeTest(ch.charCodeAt(0), inClass);
  }

  /** With the `i` flag, JavaScript compares characters by their upper case (ECMA-262 Canonicalize). */
  private caseless(test: CharTest): CharTest {
    if (!this.nocase) return test;
    return (c) => {
      if (test(c)) return true;
      const canon = canonicalize(c);
      if (canon !== c && test(canon)) return true;
      const lower = String.fromCharCode(canon).toLowerCase();
      return lower.length === 1 && lower.charCodeAt(0) !== c && canonicalize(lower.charCodeAt(0)) === canon
        ? test(lower.charCodeAt(0))
        : false;
    };
  }
}

function canonicalize(c: number): number {
  const upper = String.fromCharCode(c).toUpperCase();
  if (upper.length !== 1) return c;
  const u = upper.charCodeAt(0);
  return c >= 128 && u < 128 ? c : u;
}

function single(code: number): CharTest {
  return (c) => c === code;
}

function codeTest(code: number, inClass: boolean): CharTest & { code?: number } {
  const test: CharTest & { code?: number } = single(code);
  if (inClass) test.code = code;
  return test;
}

/**
 * Whether a backtracking engine (V8's) runs `source` in time linear in the input: at most one
 * unbounded repeat (`*`, `+`, `{n,}`) in the whole regex, lookaheads included, and that repeat
 * takes one character per turn in exactly one way (`[^/]*?`, `(?:(?!…).)*?`). Then the only
 * choice that grows with the input is where that repeat stops, so a match attempt is O(input ×
 * pattern). Two repeats (`*a*b`), or a repeat of something ambiguous (`(?:a|aa)*`), can take time
 * polynomial or exponential in the input: those go to `compileLookaheadRegex`.
 */
export function backtracksLinearly(source: string, flags = ''): boolean {
  const ast = parseRegex(source, flags);
  const repeats: Ast[] = [];
  const visit = (node: Ast): void => {
    if (node.t === 'seq') node.items.forEach(visit);
    else if (node.t === 'alt') node.options.forEach(visit);
    else if (node.t === 'look') visit(node.body);
    else if (node.t === 'repeat') {
      if (node.max === Infinity) repeats.push(node.body);
      visit(node.body);
    }
  };
  visit(ast);
  if (repeats.length === 0) return true;
  if (repeats.length > 1) return false;
  return oneCharOneWay(repeats[0] as Ast);
}

/** A single character test, optionally after lookaheads: one way to take one character. */
function oneCharOneWay(node: Ast): boolean {
  if (node.t === 'char') return true;
  if (node.t !== 'seq') return false;
  const chars = node.items.filter((item) => item.t === 'char');
  return chars.length === 1 && node.items.every((item) => item.t === 'char' || item.t === 'look');
}
