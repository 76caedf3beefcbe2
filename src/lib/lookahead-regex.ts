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
  /** Work done by the last `test`: one per character, plus the states of each set computed anew. */
  readonly lastSteps: number;
  /** Number of automaton states. */
  readonly states: number;
}

const MAX_STATES = 50_000;
/** Sets kept with their transitions; beyond this the cache starts again (each set is O(states)). */
const MAX_CACHED = 4_096;

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

/** One set of the backward sweep, with the sets it leads to per character (before position 0: `atStart`). */
interface SweepState {
  members: number[];
  /** Whether the whole regex matches from this position. */
  matches: boolean;
  next: Map<number, SweepState>;
  atStart: Map<number, SweepState>;
}

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
  /** Scratch marks: `here[q] === stamp` while computing a set, `after[q] === stamp` for the one before. */
  private readonly here: Int32Array;
  private readonly after: Int32Array;
  private stamp = 0;
  /** Sets of states already met, by their members: the lazily built DFA of the backward sweep. */
  private cache = new Map<string, SweepState>();
  private end: SweepState | undefined;
  lastSteps = 0;

  constructor(ast: Ast) {
    this.addMachine(ast, false);
    this.preds = this.kind.map(() => []);
    for (let q = 0; q < this.kind.length; q++) {
      if (this.kind[q] === SPLIT)
        for (const r of this.outs[q] as number[]) (this.preds[r] as number[]).push(q);
      else if (this.kind[q] === ASSERT) (this.preds[this.next[q] as number] as number[]).push(q);
    }
    this.here = new Int32Array(this.kind.length);
    this.after = new Int32Array(this.kind.length);
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

  /**
   * Sweeps `input` from its end: the set of states at position i (those from which their machine's
   * accept is reachable reading from i) follows from the set at i + 1 and the character at i, so
   * each set met is cached with its transitions, and a path of known shape costs one map lookup
   * per character. The cache is bounded; a new set costs O(states) to compute.
   */
  test(input: string): boolean {
    const n = input.length;
    let steps = 0;
    if (this.cache.size > MAX_CACHED) {
      this.cache = new Map();
      this.end = undefined;
    }
    let set: SweepState;
    if (n === 0) {
      set = this.compute(undefined, -1, true, true);
      steps += this.kind.length;
    } else {
      if (!this.end) this.end = this.compute(undefined, -1, false, true);
      set = this.end;
      let found = set.matches;
      for (let i = n - 1; i >= 0; i--) {
        const c = input.charCodeAt(i);
        const known = i === 0 ? set.atStart.get(c) : set.next.get(c);
        steps++;
        if (known) set = known;
        else {
          const computed = this.compute(set, c, i === 0, false);
          (i === 0 ? set.atStart : set.next).set(c, computed);
          set = computed;
          steps += this.kind.length;
        }
        found ||= set.matches;
      }
      this.lastSteps = steps;
      return found;
    }
    this.lastSteps = steps;
    return set.matches;
  }

  /** The set at position i from the set at i + 1 (`from`, none at the end) and the character there. */
  private compute(from: SweepState | undefined, c: number, atStart: boolean, atEnd: boolean): SweepState {
    const { here, after } = this;
    if (this.stamp > 0x3fff_ffff) {
      here.fill(0);
      after.fill(0);
      this.stamp = 0;
    }
    const stamp = ++this.stamp;
    if (from) for (const q of from.members) after[q] = stamp;
    const work: number[] = [];
    const members: number[] = [];
    const add = (q: number) => {
      here[q] = stamp;
      members.push(q);
      work.push(q);
    };
    for (const m of this.machines) {
      add(m.accept);
      if (from) {
        for (const q of m.chars) {
          if (after[this.next[q] as number] === stamp && (this.tests[q] as CharTest)(c)) add(q);
        }
      }
      while (work.length > 0) {
        const r = work.pop() as number;
        for (const q of this.preds[r] as number[]) {
          if (here[q] !== stamp && this.holds(q, atStart, atEnd, stamp)) add(q);
        }
      }
    }
    members.sort((a, b) => a - b);
    const key = members.join(',');
    const cached = this.cache.get(key);
    if (cached) return cached;
    const main = this.machines[this.machines.length - 1] as Machine;
    const state: SweepState = {
      members,
      matches: here[main.start] === stamp,
      next: new Map(),
      atStart: new Map(),
    };
    this.cache.set(key, state);
    return state;
  }

  private holds(q: number, atStart: boolean, atEnd: boolean, stamp: number): boolean {
    if (this.kind[q] !== ASSERT) return true;
    const a = this.assertion[q] as number;
    if (a === BOL) return atStart;
    if (a === EOL) return atEnd;
    // Inner machines come first, so the lookahead's set at this position is complete.
    const look = this.machines[a] as Machine;
    return (this.here[look.start] === stamp) !== look.negate;
  }
}
