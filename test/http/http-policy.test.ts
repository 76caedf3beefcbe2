import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePolicyText } from '../../src/policy/load.js';

function policyError(text: string): string {
  try {
    parsePolicyText(text, 'warden.yaml');
  } catch (error) {
    return (error as Error).message;
  }
  assert.fail('expected a policy error');
}

describe('http and shell policy sections', () => {
  it('apply their defaults when absent', () => {
    const { http, shell } = parsePolicyText('version: 1\n').config;
    assert.deepEqual(http.schemes, ['https', 'http']);
    assert.equal(http.timeout, '10s');
    assert.equal(http.maxResponseBytes, 1024 * 1024);
    assert.ok(http.sensitive.includes('transfer_funds'));
    assert.deepEqual(shell.commands, {});
    assert.ok(shell.sensitiveVariables.includes('LD_*'));
  });

  it('names file, line and field for a host pattern that can never match', () => {
    const message = policyError('http:\n  hosts:\n    deny:\n      - "http://x.example/"\n');
    assert.match(message, /warden\.yaml:4:\d+: http\.hosts\.deny\[0\]: .*not a host name/);
  });

  it('names the endpoint whose JSON Schema is invalid', () => {
    const message = policyError(
      'http:\n  endpoints:\n    - url: "https://api.example/*"\n      schema: { type: 12 }\n',
    );
    assert.match(message, /warden\.yaml:4:\d+: http\.endpoints\[0\]\.schema: not a valid JSON Schema/);
  });

  it('refuses an unknown scheme and a relative shell cwd', () => {
    assert.match(policyError('http:\n  schemes: [gopher]\n'), /http\.schemes\[0\]/);
    assert.match(policyError('shell:\n  cwd: workspace\n'), /shell\.cwd: expected an absolute directory/);
  });

  it('refuses an unknown field in a command entry', () => {
    assert.match(policyError('shell:\n  commands:\n    git: { argz: [status] }\n'), /shell\.commands\.git/);
  });
});
