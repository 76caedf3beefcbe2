// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the policy's literal `${VAR}` syntax is under test
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backendKind, LimitsConfigError, resolveUrl } from '../../limits/open-backend.js';
import { MemoryStore } from '../../store/memory/memory-store.js';
import { parsePolicyText } from '../load.js';
import { PolicyError } from '../policy-error.js';

function problems(yaml: string): string[] {
  try {
    parsePolicyText(yaml, 'warden.yaml');
  } catch (error) {
    if (error instanceof PolicyError) return error.message.split('\n');
    throw error;
  }
  return [];
}

describe('the limits policy section', () => {
  test('names the file, line and field of a bad window, amount or scope', () => {
    const out = problems(
      [
        'limits:',
        '  rate:',
        '    - windows: { 1min: 2 }',
        '    - { scope: team, windows: { 1m: 2 } }',
        '  budgets:',
        '    - usd: -1',
        '',
      ].join('\n'),
    );
    assert.match(
      out.join('\n'),
      /warden\.yaml:3:\d+: limits\.rate\[0\]\.windows\.1min: window `1min` is not a duration/,
    );
    assert.match(out.join('\n'), /warden\.yaml:4:\d+: limits\.rate\[1\]\.scope:/);
    assert.match(out.join('\n'), /warden\.yaml:6:\d+: limits\.budgets\[0\]\.usd: too small/);
  });

  test('a redis or postgres backend without a URL is refused when the policy loads', () => {
    const out = problems('limits:\n  backend: postgres\n  budgets: [{ usd: 1 }]\n');
    assert.match(out.join('\n'), /limits\.postgres: `backend: postgres` needs `postgres\.url`/);
  });

  test('defaults: no limits, backend following the store', () => {
    const policy = parsePolicyText('agents: {}\n');
    assert.deepEqual(policy.config.limits.rate, []);
    assert.equal(policy.config.limits.holdTtl, '1h');
    assert.equal(backendKind(policy.config.limits, new MemoryStore()), 'memory');
    assert.equal(backendKind(policy.config.limits, { kind: 'sqlite' }), 'sqlite');
  });
});

describe('connection URLs', () => {
  const env = { REDIS_HOST: 'cache.internal', REDIS_URL: 'redis://from-env:6379' };
  const conn = (c: Record<string, string>) => ({ prefix: 'warden', timeout: '500ms', ...c });

  test('`${VAR}` is replaced from the environment; urlEnv names a variable holding the URL', () => {
    assert.equal(
      resolveUrl('redis', conn({ url: 'redis://${REDIS_HOST}:6379/0' }), env),
      'redis://cache.internal:6379/0',
    );
    assert.equal(resolveUrl('redis', conn({ urlEnv: 'REDIS_URL' }), env), 'redis://from-env:6379');
  });

  test('a variable that is not set is an error naming it, never an empty URL', () => {
    assert.throws(
      () => resolveUrl('redis', conn({ url: 'redis://${NOPE}:6379' }), env),
      (e: Error) => e instanceof LimitsConfigError && /`NOPE` is not set/.test(e.message),
    );
    assert.throws(() => resolveUrl('postgres', conn({ urlEnv: 'PG_NOPE' }), env), /`PG_NOPE` is not set/);
  });
});
