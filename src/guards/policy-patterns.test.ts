import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { HttpPolicySchema } from '../policy/sections/http.js';
import { ShellPolicySchema } from '../policy/sections/shell.js';
import { compileHttp } from './http/url-checks.js';
import { compileShell } from './shell/shell-guard.js';

// `*a*a*a…*b` turned into a backtracking regex is polynomial in the input: minutes at 60
// characters. Patterns from the policy must match in linear time.
const MANY_STARS = `${'*a'.repeat(12)}*b`;
const LONG = 'a'.repeat(60);

describe('guard patterns from the policy match in linear time', () => {
  test('an `http.endpoints` URL pattern with many `*` answers at once on a long URL', {
    timeout: 60_000,
  }, () => {
    const http = compileHttp(
      HttpPolicySchema.parse({ endpoints: [{ url: `https://x/${MANY_STARS}` }] }),
      1000,
    );
    assert.equal(http.endpoints[0]?.matches(`https://x/${LONG}`, 'GET'), false);
    assert.equal(http.endpoints[0]?.matches(`https://x/${LONG}b`, 'GET'), true);
  });

  test('a `shell.commands` argument pattern with many `*` answers at once on long arguments', {
    timeout: 60_000,
  }, () => {
    const shell = compileShell(ShellPolicySchema.parse({ commands: { echo: { args: [MANY_STARS] } } }));
    const entry = shell.commands.get('echo');
    assert.equal(entry?.argsMatch?.(LONG), false);
    assert.equal(entry?.argsMatch?.(`${LONG}b`), true);
  });
});
