import assert from 'node:assert/strict';
import { test } from 'node:test';
import { REDACTED, redact, redactString } from './redact.js';

test('secret-named fields are redacted wherever they sit', () => {
  const out = redact({
    password: 'hunter2',
    nested: { apiKey: 'abc', headers: { Authorization: 'Basic Zm9vOmJhcg==' } },
    list: [{ client_secret: 'x' }],
    harmless: 'ok',
  }) as Record<string, unknown>;
  assert.deepEqual(out, {
    password: REDACTED,
    nested: { apiKey: REDACTED, headers: { Authorization: REDACTED } },
    list: [{ client_secret: REDACTED }],
    harmless: 'ok',
  });
});

test('secret-looking values are redacted inside free text', () => {
  const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U';
  const cases = [
    ['curl -H "Authorization: Bearer abcdef0123456789" https://x', 'Bearer abcdef0123456789'],
    ['key sk-proj-abcdefghijklmnop0123 here', 'sk-proj-abcdefghijklmnop0123'],
    ['aws AKIAIOSFODNN7EXAMPLE id', 'AKIAIOSFODNN7EXAMPLE'],
    [`token ${jwt}`, jwt],
    ['https://api.example.com/?api_key=s3cr3t&q=1', 's3cr3t'],
    ['mysql -u root --password=topsecret', 'topsecret'],
  ] as const;
  for (const [input, secret] of cases) {
    const out = redactString(input);
    assert.ok(!out.includes(secret), `${input} → ${out}`);
    // `[REDACTED]`, or the shared scanner's `[REDACTED:<rule>:<hash>]`.
    assert.ok(out.includes(REDACTED.slice(0, -1)), out);
  }
  assert.equal(redactString('SELECT * FROM users WHERE id = 1'), 'SELECT * FROM users WHERE id = 1');
});

test('long strings are cut, with their length kept', () => {
  const out = redactString('x'.repeat(5000), 100);
  assert.ok(out.length < 130);
  assert.match(out, /\(5000 chars\)$/);
});
