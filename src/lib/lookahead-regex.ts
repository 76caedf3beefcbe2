import { type Ast, type CharTest, parseRegex } from './regex-syntax.js';

/**
 * A linear-time matcher for JavaScript regexes with lookahead: the regexes picomatch compiles
 * globs into (`(?!\.{1,2}(?:\/|$))`, `(?=.)`, `!(…)` extglobs). RE2 (linear-regex.ts) has no
 * lookahead, and V8 runs these regexes by backtracking, so a glob such as `**\/a*a*a*a*b` takes
 * time that grows as a long path's length to the power of its stars. Here a regex becomes an automaton (Thompson
 * construction), one per lookahead body besides the main one, and the input is swept once from
 * its end to its start: at each position, for each automaton (innermost lookahead first), the set
 * of states from which its accepting state can be reached. A lookahead at position `i` is then a
 * lookup in its body's set at `i`. Time is O(input length × states); no input can make it slower.
 *
 * Supported: literals and escapes, `.`, classes (ranges, `\d\w\s` and their negations), groups,
 * `(?=…)`, `(?!…)`, `|`, `*`, `+`, `?`, `{n,m}` (greedy or lazy: only whether it matches counts),
 * `^`, `$`, and the `i` flag. Refused with an error: lookbehind, backreferences, `\b`, `\B`.
 */

/** A compiled regex; `test` searches like `RegExp.prototype.test`. */
export interface LookaheadRegex {
  test(input: string): boolean;
  /** Work done by the last `test` (states visited plus transitions tried). */
  readonly lastSteps: number;
  /** Number of automaton states. */
  readonly states: number;
}

const MAX_STATES = 50_000;

/**
 * Compiles a JavaScript regex source (no `u` flag semantics: code units). Throws an `Error` naming
 * the feature when the source uses one the matcher cannot run in linear time.
 *
 * @example compileLookaheadRegex('^(?:(?!\\.{1,2}(?:\\/|$))[^/]*?\\.md)$').test('a.md') // true
 */
export function compileLookaheadRegex(source: string, flags = ''): LookaheadRegex {
  return new Automaton(parseRegex(source, flags));
}

const CHAR = 0;
const SPLIT = 1;
const ASSERT = 2;
const ACCEPT = 3;
const BOL = -1;
const EOL = -2;

interface Machine {
  start: number;
  accept: number;
  /** Its states that consume a character. */
  chars: number[];
  /** A `(?!…)` lookahead: it holds where the body does not match. */
  negate: boolean;
}

/** The automata of one regex: one for the whole and one per lookahead body. */
class Automaton implements LookaheadRegex {
  private readonly kind: number[] = [];
  private readonly next: number[] = [];
  private readonly outs: number[][] = [];
  private readonly tests: (CharTest | undefined)[] = [];
  /** ASSERT: BOL, EOL, or the index of a lookahead (its negation in `negated`). */
  private readonly assertion: number[] = [];
  /** Lookahead bodies, innermost first, then the whole regex last. */
  private readonly machines: Machine[] = [];
  /** The char states of the machine being built. */
  private chars: number[] = [];
  /** Per state: the states with an epsilon or assertion edge into it. */
  private preds: number[][] = [];
  /** reach[q] === stamp + i: state q reaches its machine's accept from position i (two rows). */
  private rows: [Int32Array, Int32Array] = [new Int32Array(0), new Int32Array(0)];
  private stamp = 0;
  lastSteps = 0;

  constructor(ast: Ast) {
    this.addMachine(ast, false);
    this.preds = this.kind.map(() => []);
    for (let q = 0; q < this.kind.length; q++) {
      if (this.kind[q] === SPLIT)
        for (const r of this.outs[q] as number[]) (this.preds[r] as number[]).push(q);
      else if (this.kind[q] === ASSERT) (this.preds[this.next[q] as number] as number[]).push(q);
    }
  }

  get states(): number {
    return this.kind.length;
  }

  /** Builds a machine after the lookaheads inside it, so inner machines always come first. */
  private addMachine(ast: Ast, negate: boolean): number {
    const outer = this.chars;
    this.chars = [];
    const accept = this.state(ACCEPT, -1);
    const start = this.build(ast, accept);
    this.machines.push({ start, accept, chars: this.chars, negate });
    this.chars = outer;
    return this.machines.length - 1;
  }

  private state(kind: number, next: number, test?: CharTest): number {
    if (this.kind.length >= MAX_STATES) throw new Error(`regex is too large (over ${MAX_STATES} states)`);
    this.kind.push(kind);
    this.next.push(next);
    this.outs.push([]);
    this.tests.push(test);
    this.assertion.push(0);
    return this.kind.length - 1;
  }

  private build(ast: Ast, next: number): number {
    switch (ast.t) {
      case 'char': {
        const q = this.state(CHAR, next, ast.test);
        this.chars.push(q);
        return q;
      }
      case 'seq':
        return ast.items.reduceRight((to, item) => this.build(item, to), next);
      case 'alt': {
        const q = this.state(SPLIT, -1);
        this.outs[q] = ast.options.map((o) => this.build(o, next));
        return q;
      }
      case 'bol':
      case 'eol': {
        const q = this.state(ASSERT, next);
        this.assertion[q] = ast.t === 'bol' ? BOL : EOL;
        return q;
      }
      case 'look': {
        const index = this.addMachine(ast.body, ast.negate);
        const q = this.state(ASSERT, next);
        this.assertion[q] = index;
        return q;
      }
      case 'repeat': {
        let to = next;
        if (ast.max === Infinity) {
          const loop = this.state(SPLIT, -1);
          this.outs[loop] = [this.build(ast.body, loop), next];
          to = loop;
        } else {
          for (let k = ast.max; k > ast.min; k--) {
            const opt = this.state(SPLIT, -1);
            this.outs[opt] = [this.build(ast.body, to), next];
            to = opt;
          }
        }
        for (let k = 0; k < ast.min; k++) to = this.build(ast.body, to);
        return to;
      }
    }
  }

  test(input: string): boolean {
    const n = input.length;
    const size = this.kind.length;
    if (this.rows[0].length !== size || this.stamp > 0x3fff_0000 - n) {
      this.rows = [new Int32Array(size).fill(-1), new Int32Array(size).fill(-1)];
      this.stamp = 0;
    }
    // Positions are stamped `base + i`, so the rows need no clearing between calls.
    const base = this.stamp;
    this.stamp += n + 2;
    let [here, after] = this.rows;
    const work: number[] = [];
    let steps = 0;
    let found = false;
    const main = this.machines[this.machines.length - 1] as Machine;
    for (let i = n; i >= 0; i--) {
      const at = base + i;
      const c = i < n ? input.charCodeAt(i) : -1;
      for (const m of this.machines) {
        here[m.accept] = at;
        work.push(m.accept);
        if (i < n) {
          for (const q of m.chars) {
            steps++;
            if (after[this.next[q] as number] === at + 1 && (this.tests[q] as CharTest)(c)) {
              here[q] = at;
              work.push(q);
            }
          }
        }
        while (work.length > 0) {
          const r = work.pop() as number;
          steps++;
          for (const q of this.preds[r] as number[]) {
            if (here[q] === at || !this.holds(q, i, n, here, at)) continue;
            here[q] = at;
            work.push(q);
          }
        }
      }
      if (here[main.start] === at) found = true;
      [here, after] = [after, here];
    }
    this.lastSteps = steps;
    return found;
  }

  private holds(q: number, i: number, n: number, here: Int32Array, at: number): boolean {
    if (this.kind[q] !== ASSERT) return true;
    const a = this.assertion[q] as number;
    if (a === BOL) return i === 0;
    if (a === EOL) return i === n;
    const look = this.machines[a] as Machine;
    return (here[look.start] === at) !== look.negate;
  }
}
