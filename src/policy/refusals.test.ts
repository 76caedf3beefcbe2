import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parsePolicyText, policyFromObject } from './load.js';
import { PolicyError } from './policy-error.js';

function issuesOf(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof PolicyError, `expected a PolicyError, got ${String(error)}`);
    return error.issues;
  }
  assert.fail('expected the policy to be refused');
}

const AGENTS = 'agents:\n  research-agent:\n    allow: [fs.read]\n  coding-agent:\n    allow: [fs.read]\n';

function regexRule(regex: string): string {
  return `${AGENTS}rules:\n  - id: r\n    effect: deny\n    match:\n      params:\n        path: { regex: ${JSON.stringify(regex)} }\n`;
}

describe('policy regexes run in linear time', () => {
  test('a catastrophic regex (`(a+)+$`) against a long input answers at once instead of freezing the server', {
    timeout: 60_000,
  }, () => {
    const policy = parsePolicyText(regexRule('(a+)+$'), 'p.yaml');
    const [rule] = policy.rulesFor('fs.read');
    assert.ok(rule);
    const [param] = rule.params;
    assert.ok(param);
    // A backtracking engine takes minutes on this (16 s at 28 characters, doubling with each one).
    assert.equal(param.test({ path: `${'a'.repeat(40)}!` }), false);
    assert.equal(param.test({ path: 'a'.repeat(40_000) }), true);
  });

  test('a regex needing backtracking (backreference, lookaround) is refused at load with file, line, field and why', () => {
    for (const regex of ['(a)\\1', '^(?!admin).*', 'x(?=y)', '(?<=a)b']) {
      const [issue] = issuesOf(() => parsePolicyText(regexRule(regex), 'p.yaml'));
      assert.equal(issue?.file, 'p.yaml');
      assert.equal(issue?.line, 11, regex);
      assert.equal(issue?.field, 'rules[0].match.params.path', regex);
      assert.match(issue?.message ?? '', /linear time/, regex);
    }
  });

  test('a name pattern with many `*` (`match.type`, `match.agent`, limits) matches a long name in linear time', {
    timeout: 60_000,
  }, () => {
    const star = `${'*a'.repeat(12)}*b`;
    const policy = policyFromObject({
      agents: { x: { allow: ['*'] } },
      rules: [{ id: 'r', effect: 'deny', match: { type: star } }],
    });
    assert.deepEqual(policy.rulesFor('a'.repeat(60)), []);
  });
});

describe('a policy that names an unknown agent is refused', () => {
  test('a rule naming an agent that is not defined is refused, naming the known agents and the closest one', () => {
    const text = `${AGENTS}rules:\n  - id: no-delete\n    effect: deny\n    match: { type: fs.delete, agent: reserch-agent }\n`;
    const [issue] = issuesOf(() => parsePolicyText(text, 'p.yaml'));
    assert.deepEqual([issue?.file, issue?.line, issue?.field], ['p.yaml', 9, 'rules[0].match.agent']);
    assert.match(issue?.message ?? '', /unknown agent `reserch-agent`/);
    assert.match(issue?.message ?? '', /did you mean `research-agent`/);
    assert.match(issue?.message ?? '', /`coding-agent`/);
  });

  test('an agent pattern that matches no defined agent is refused, saying so', () => {
    const text = `${AGENTS}rules:\n  - id: no-delete\n    effect: deny\n    match: { agent: [coding-agent, "reserch-*"] }\n`;
    const [issue] = issuesOf(() => parsePolicyText(text, 'p.yaml'));
    assert.deepEqual([issue?.line, issue?.field], [9, 'rules[0].match.agent[1]']);
    assert.match(issue?.message ?? '', /pattern `reserch-\*` matches no agent/);
  });

  test('a limit naming an unknown agent is refused too; patterns that match an agent are accepted', () => {
    const text = `${AGENTS}limits:\n  rate:\n    - match: { agent: codng-agent }\n      windows: { 1m: 5 }\n  budgets:\n    - match: { agent: "*-agent" }\n      usd: 1\n`;
    const [issue, more] = issuesOf(() => parsePolicyText(text, 'p.yaml'));
    assert.equal(more, undefined);
    assert.deepEqual([issue?.line, issue?.field], [8, 'limits.rate[0].match.agent']);
    assert.match(issue?.message ?? '', /did you mean `coding-agent`/);
  });
});

describe('hostile or empty policy files', () => {
  test('a billion-laughs policy (nested aliases) is refused with the file and a line, not a stack trace', () => {
    const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 9; i++)
      lines.push(
        `a${i}: &a${i} [${Array(10)
          .fill(`*a${i - 1}`)
          .join(', ')}]`,
      );
    const [issue] = issuesOf(() => parsePolicyText(`${lines.join('\n')}\n`, 'laughs.yaml'));
    assert.equal(issue?.file, 'laughs.yaml');
    assert.ok(issue?.line !== undefined);
    assert.match(issue?.message ?? '', /alias/);
    assert.doesNotMatch(issue?.message ?? '', /\n\s+at /);
  });

  test('an empty policy file is refused, saying what to add', () => {
    for (const text of ['', '\n', '# only a comment\n']) {
      const [issue] = issuesOf(() => parsePolicyText(text, 'empty.yaml'));
      assert.equal(issue?.file, 'empty.yaml');
      assert.match(issue?.message ?? '', /empty.*`agents`/);
    }
  });
});
