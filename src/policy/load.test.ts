import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { loadPolicyFile, parsePolicyText, policyFromObject } from './load.js';
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

describe('policy files', () => {
  test('an invalid field is reported with file, line, column and field path', () => {
    const text =
      'version: 1\nagents:\n  a:\n    allow: [fs.read]\nrules:\n  - id: ok\n    effect: allow\n  - id: bad\n    effect: permit\n';
    const [issue] = issuesOf(() => parsePolicyText(text, 'team.yaml'));
    assert.deepEqual(
      { file: issue?.file, line: issue?.line, field: issue?.field },
      { file: 'team.yaml', line: 9, field: 'rules[1].effect' },
    );
    assert.match(issue?.message ?? '', /allow.*deny.*ask/);
    assert.match(issue?.message ?? '', /permit/);
  });

  test('an unknown field is named, at its own line', () => {
    const [issue] = issuesOf(() => parsePolicyText('agents:\n  a:\n    alow: [fs.read]\n', 'p.yaml'));
    assert.equal(issue?.field, 'agents.a.alow');
    assert.equal(issue?.line, 3);
    assert.match(issue?.message ?? '', /unknown field `alow`/);
  });

  test('a missing required field is reported at its parent', () => {
    const [issue] = issuesOf(() => parsePolicyText('rules:\n  - effect: deny\n', 'p.yaml'));
    assert.equal(issue?.field, 'rules[0].id');
    assert.equal(issue?.line, 2);
  });

  test('YAML syntax errors name the line', () => {
    const [issue] = issuesOf(() => parsePolicyText('agents:\n  a: [\n', 'p.yaml'));
    assert.equal(issue?.file, 'p.yaml');
    assert.ok(issue?.line !== undefined);
    assert.match(issue?.message ?? '', /not valid YAML/);
  });

  test('semantic errors are located too: duplicate rule ids and invalid regexes', () => {
    const text =
      'rules:\n  - id: r\n    effect: deny\n  - id: r\n    effect: allow\n    match:\n      params:\n        x: { regex: "(" }\n';
    const issues = issuesOf(() => parsePolicyText(text, 'p.yaml'));
    assert.deepEqual(
      issues.map((i) => [i.field, i.line]),
      [
        ['rules[1].id', 4],
        ['rules[1].match.params.x', 8],
      ],
    );
  });

  test('a host pattern that could never match is refused at load', () => {
    const text =
      'agents:\n  a:\n    allow: [http.request]\n    resources:\n      hosts: [ok.example.com, "api.*.com"]\n';
    const [issue] = issuesOf(() => parsePolicyText(text, 'p.yaml'));
    assert.equal(issue?.field, 'agents.a.resources.hosts[1]');
    assert.equal(issue?.line, 5);
    assert.match(issue?.message ?? '', /not a host pattern/);
  });

  test('approvals can only name roles that can vote', () => {
    const [issue] = issuesOf(() => parsePolicyText('approvals:\n  roles: [finance-approver]\n', 'p.yaml'));
    assert.equal(issue?.field, 'approvals.roles[0]');
  });

  test('JSON and a TypeScript object are equivalent to YAML', () => {
    const yaml = parsePolicyText(
      'agents:\n  a:\n    allow: [fs.read]\n    resources: { paths: ["/d/**"] }\n',
    );
    const json = parsePolicyText(
      '{"agents":{"a":{"allow":["fs.read"],"resources":{"paths":["/d/**"]}}}}',
      'p.json',
    );
    const object = policyFromObject({
      agents: { a: { allow: ['fs.read'], resources: { paths: ['/d/**'] } } },
    });
    assert.deepEqual(json.config, yaml.config);
    assert.deepEqual(object.config, yaml.config);
    const [jsonIssue] = issuesOf(() =>
      parsePolicyText('{\n  "agents": {\n    "a": { "allow": "fs.read" }\n  }\n}', 'p.json'),
    );
    assert.deepEqual([jsonIssue?.field, jsonIssue?.line], ['agents.a.allow', 3]);
  });

  test('a missing file is a PolicyError that says what to do', () => {
    const [issue] = issuesOf(() => loadPolicyFile('/nonexistent/warden.yaml'));
    assert.match(issue?.message ?? '', /no such file/);
  });

  test('every shipped example policy is valid', () => {
    const dir = new URL('../../examples/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'));
    assert.ok(files.length >= 4);
    for (const f of files) loadPolicyFile(new URL(f, dir).pathname);
  });

  test('risk overrides: the most specific pattern wins, the default matrix otherwise', () => {
    const p = policyFromObject({ risk: { 'crm.*': 'high', 'crm.read': 'low' } });
    assert.equal(p.riskOf('crm.read'), 'low');
    assert.equal(p.riskOf('crm.delete'), 'high');
    assert.equal(p.riskOf('fs.delete'), 'critical');
    assert.equal(p.riskOf('payment.refund'), 'high');
    assert.equal(p.riskOf('ticket.create'), 'medium');
  });
});
