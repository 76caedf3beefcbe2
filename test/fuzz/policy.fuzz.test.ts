import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import type { CompiledPolicy } from '../../src/policy/compile.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { PolicyError } from '../../src/policy/policy-error.js';
import { ROOT, runCli, tempDir } from '../helpers/cli.js';

/**
 * The policy fuzz suite (issue 20): mutated YAML policies, started from the shipped examples, go
 * through the loader the CLI uses. Each one is either a valid policy or a `PolicyError` whose
 * every issue names the file (and a line wherever the YAML has a position); never another
 * exception, never a stack trace. Fixed seed and 300 cases by default; `WARDEN_FUZZ_RUNS=5000`
 * for a longer run, `WARDEN_FUZZ_SEED` for another seed.
 */

const RUNS = Number(process.env.WARDEN_FUZZ_RUNS ?? 300);
const SEED = Number(process.env.WARDEN_FUZZ_SEED ?? 20_2026);
const tmp = tempDir();
after(tmp.remove);

const EXAMPLES = readdirSync(join(ROOT, 'examples'))
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => readFileSync(join(ROOT, 'examples', f), 'utf8'));

// Regexes an author might write, the catastrophic ones of the ReDoS literature among them, and
// ones RE2 cannot run (backreferences, lookaround).
const REGEXES = [
  '(a+)+$',
  '(a|a)*b',
  '(a|aa)+$',
  '^(\\w+\\s?)*$',
  '(.*a){12}',
  '([a-z]+)*[0-9]',
  '(a)\\1',
  '^(?!admin).*',
  'x(?=y)',
  '(?<=a)b',
  '(?<n>a)\\k<n>',
  '[',
  '(',
  'a{1001}',
  '\\p{Greek}+',
  '^/etc/.*',
  '',
];

const scalar = fc.oneof(
  fc.constantFrom(
    '~',
    'null',
    'true',
    'no',
    '-1',
    '0',
    '0.5',
    '1e309',
    '.inf',
    '.nan',
    '[]',
    '{}',
    '""',
    "''",
    '0x1F',
    '2026-01-01',
    '!!binary aGVsbG8=',
    '!!str',
    '!custom x',
    '|',
    '>-',
    '"\\u0000"',
    '"\\uD800"',
    '*',
    '&',
    '? complex',
    '<<: *a',
  ),
  fc.integer().map(String),
  fc.double().map(String),
  fc.string({ maxLength: 20 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }).map((s) => JSON.stringify(s)),
);

const ONE_LINE = fc.nat();
type Mutation = (lines: string[]) => string[];
const at = (lines: string[], i: number) => (lines.length === 0 ? 0 : i % lines.length);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  ONE_LINE.map((i) => (lines: string[]) => lines.filter((_, j) => j !== at(lines, i))),
  ONE_LINE.map((i) => (lines: string[]) => {
    const k = at(lines, i);
    return [...lines.slice(0, k + 1), ...lines.slice(k)];
  }),
  fc.tuple(ONE_LINE, ONE_LINE).map(([i, j]) => (lines: string[]) => {
    const out = [...lines];
    const a = at(out, i);
    const b = at(out, j);
    [out[a], out[b]] = [out[b] ?? '', out[a] ?? ''];
    return out;
  }),
  // A value replaced by another type or a random scalar.
  fc.tuple(ONE_LINE, scalar).map(([i, value]) => (lines: string[]) => {
    const k = at(lines, i);
    return lines.map((l, j) => (j === k ? l.replace(/:( .*)?$/, `: ${value}`) : l));
  }),
  // A rule with a random or catastrophic regex (or any string as a regex).
  fc
    .tuple(fc.oneof(fc.constantFrom(...REGEXES), fc.string({ maxLength: 12 })), fc.nat(99))
    .map(([regex, n]) => (lines: string[]) => [
      ...lines.filter((l) => l !== 'rules: []'),
      ...(lines.some((l) => l === 'rules:') ? [] : ['rules:']),
      `  - id: fuzz-${n}`,
      '    effect: deny',
      '    match:',
      '      params:',
      `        path: { regex: ${JSON.stringify(regex)} }`,
    ]),
  // A rule naming an agent, known or not, exact or a pattern.
  fc
    .constantFrom('research-agent', 'reserch-agent', 'coding-*', 'nobody-*', '*', 'finance-agent')
    .map((agent) => (lines: string[]) => [
      ...lines,
      'rules:',
      '  - id: fuzz-agent',
      '    effect: deny',
      `    match: { agent: ${JSON.stringify(agent)} }`,
    ]),
  // Anchors and aliases: a billion-laughs block, an undefined alias, an anchor on a value.
  fc.integer({ min: 1, max: 9 }).map((depth) => (lines: string[]) => {
    const laughs = ['l0: &l0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= depth; i++)
      laughs.push(
        `l${i}: &l${i} [${Array(10)
          .fill(`*l${i - 1}`)
          .join(', ')}]`,
      );
    return [...laughs, ...lines];
  }),
  fc.tuple(ONE_LINE, ONE_LINE).map(([i, j]) => (lines: string[]) => {
    const a = at(lines, i);
    const b = at(lines, j);
    return lines.map((l, k) =>
      k === a ? l.replace(/: (\S.*)$/, ': &anc $1') : k === b ? l.replace(/: (\S.*)$/, ': *anc') : l,
    );
  }),
  ONE_LINE.map((i) => (lines: string[]) => lines.map((l, k) => (k === at(lines, i) ? `${l} *undefined` : l))),
  // Deep nesting, in flow and in block style.
  fc
    .integer({ min: 50, max: 5000 })
    .map((n) => (lines: string[]) => [...lines, `deep: ${'['.repeat(n)}${']'.repeat(n)}`]),
  fc
    .integer({ min: 10, max: 300 })
    .map((n) => (lines: string[]) => [
      ...lines,
      ...Array.from({ length: n }, (_, k) => `${' '.repeat(k)}k${k}:`),
    ]),
  // Random unicode (lone surrogates, controls, BOMs) at a random place in a line.
  fc.tuple(ONE_LINE, fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 8 })).map(
    ([i, pos, text]) =>
      (lines: string[]) =>
        lines.map((l, k) =>
          k === at(lines, i) ? l.slice(0, pos % (l.length + 1)) + text + l.slice(pos % (l.length + 1)) : l,
        ),
  ),
  fc
    .constantFrom('\uFEFF', '\t', '\r', '\u0000', '\u2028', '---', '...', '%YAML 1.1', '%TAG ! tag:x,2000:')
    .map((text) => (lines: string[]) => [text, ...lines]),
  // Indentation changed.
  fc.tuple(ONE_LINE, fc.integer({ min: -4, max: 4 })).map(
    ([i, d]) =>
      (lines: string[]) =>
        lines.map((l, k) => (k !== at(lines, i) ? l : d >= 0 ? `${' '.repeat(d)}${l}` : l.slice(-d))),
  ),
  // Truncation.
  fc.nat().map((n) => (lines: string[]) => {
    const text = lines.join('\n');
    return text.slice(0, n % (text.length + 1)).split('\n');
  }),
);

const policyText = fc
  .tuple(fc.nat(EXAMPLES.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 }))
  .map(([e, ms]) => ms.reduce((lines, m) => m(lines), (EXAMPLES[e] ?? '').split('\n')).join('\n'));

const STACK_FRAME = /\n\s+at\s|\.(ts|js):\d+:\d+/;
// Issues with no YAML position to point at: the file as a whole.
const WHOLE_FILE = /^(the policy is empty|cannot read the policy|and \d+ more YAML errors)/;

/** Exercises a loaded policy the way the hot path does, with long values against every regex. */
function exercise(policy: CompiledPolicy): void {
  const long = `${'a'.repeat(5000)}!`;
  for (const rule of policy.config.rules) {
    const types = rule.match.type === undefined ? ['x'] : [rule.match.type].flat();
    for (const type of types) {
      for (const compiled of policy.rulesFor(type.replaceAll('*', 'a'))) {
        const params = Object.fromEntries(compiled.params.map((p) => [p.key, long]));
        for (const p of compiled.params) p.test(params);
        compiled.matchesAgent?.(long);
      }
    }
  }
  policy.riskOf(long);
}

describe('policy fuzz: mutated YAML policies', () => {
  const refusedFiles: string[] = [];

  test('every mutated policy loads or is refused with a PolicyError naming the file and line, never a stack trace', {
    timeout: 600_000,
  }, () => {
    const counts = { tried: 0, valid: 0, refused: 0 };
    let slowestMs = 0;
    fc.assert(
      fc.property(policyText, (text) => {
        counts.tried++;
        const file = join(tmp.dir, `case-${counts.tried}.yaml`);
        writeFileSync(file, text);
        const started = performance.now();
        try {
          exercise(loadPolicyFile(file));
          counts.valid++;
        } catch (error) {
          if (!(error instanceof PolicyError)) {
            assert.fail(`not a PolicyError: ${(error as Error)?.stack ?? String(error)}`);
          }
          counts.refused++;
          assert.doesNotMatch(error.message, STACK_FRAME);
          assert.ok(error.issues.length > 0);
          for (const issue of error.issues) {
            assert.equal(issue.file, file);
            assert.ok(issue.message.length > 0);
            if (!WHOLE_FILE.test(issue.message))
              assert.ok(issue.line !== undefined, `no line for: ${issue.field}: ${issue.message}`);
          }
          for (const line of error.message.split('\n')) assert.ok(line.startsWith(file), line);
          if (refusedFiles.length < 5 && counts.refused % 7 === 1) refusedFiles.push(file);
        } finally {
          slowestMs = Math.max(slowestMs, performance.now() - started);
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true, includeErrorInReport: true },
    );
    process.stdout.write(
      `policy fuzz: seed ${SEED}, ${counts.tried} tried, ${counts.valid} valid, ${counts.refused} refused; slowest load ${Math.round(slowestMs)} ms\n`,
    );
    assert.equal(counts.tried, RUNS);
    assert.ok(counts.valid > 0 && counts.refused > 0, JSON.stringify(counts));
  });

  test('refused fuzz cases through `warden eval`: exit 2, the file named, no stack trace', {
    timeout: 300_000,
  }, async () => {
    assert.ok(refusedFiles.length > 0, 'the fuzz run above found refused cases');
    for (const file of refusedFiles) {
      const r = await runCli(['eval', '--policy', file], { input: '' });
      assert.equal(r.code, 2, `${file}: ${r.stderr}`);
      assert.ok(r.stderr.includes(file), r.stderr);
      assert.doesNotMatch(r.stderr, STACK_FRAME);
    }
    process.stdout.write(
      `policy fuzz: ${refusedFiles.length} refused cases through warden eval, all exit 2\n`,
    );
  });
});
