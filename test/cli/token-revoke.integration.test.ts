import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadTokens } from '../../src/server/tokens.js';
import { runCli, tempDir } from '../helpers/cli.js';

const tmp = tempDir('warden-token-revoke-');
after(tmp.remove);

test('warden token revoke removes a token from the tokens file, and only that one', async () => {
  const file = join(tmp.dir, 'tokens.json');
  const create = async (name: string) => {
    const made = await runCli(['token', 'create', '--role', 'approver', '--name', name, '--tokens', file]);
    assert.equal(made.code, 0, made.stderr);
    return made.stdout.trim();
  };
  const old = await create('alice');
  const fresh = await create('alice');
  const bob = await create('bob');

  const revoked = await runCli(['token', 'revoke', '--token', old, '--tokens', file]);
  assert.equal(revoked.code, 0, revoked.stderr);
  assert.match(revoked.stdout, /revoked 1 token/);
  let tokens = loadTokens(file);
  assert.equal(tokens.authenticate(old), undefined, 'the revoked token no longer authenticates');
  assert.equal(tokens.authenticate(fresh)?.name, 'alice', 'the holder’s new token still does');

  const byName = await runCli(['token', 'revoke', '--name', 'alice', '--tokens', file]);
  assert.equal(byName.code, 0, byName.stderr);
  tokens = loadTokens(file);
  assert.equal(tokens.authenticate(fresh), undefined);
  assert.equal(tokens.authenticate(bob)?.name, 'bob');

  const again = await runCli(['token', 'revoke', '--name', 'alice', '--tokens', file]);
  assert.equal(again.code, 1, 'nothing left to revoke exits 1');
  assert.match(again.stderr, /no such token/);
  assert.doesNotMatch(again.stderr, /\n\s+at /, 'a clear error, no stack trace');
});
