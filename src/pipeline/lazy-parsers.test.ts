import assert from 'node:assert/strict';
import { test } from 'node:test';
import { shellParserLoaded } from '../guards/shell/shell-parser.js';
import { sqlParserLoaded } from '../sql/pg-parser.js';
import { testWarden } from '../testing/index.js';

// One process per file: the parsers load once per process, so this file never grants SQL or
// commands before the first test has looked.

test('a Warden whose policy grants no SQL and no commands starts without loading either parser', async () => {
  const warden = await testWarden({
    agents: { bot: { allow: ['fs.read'], resources: { paths: ['/data/**'] } } },
  });
  try {
    assert.equal(sqlParserLoaded(), false);
    assert.equal(shellParserLoaded(), false);
    assert.equal(warden.sandbox?.backend, 'unused');
  } finally {
    await warden.close();
  }
});

test('a SQL action under such a policy is still judged by its parsed SQL: the parser loads on first use', async () => {
  const warden = await testWarden({
    agents: { bot: { allow: ['fs.read'], resources: { paths: ['/data/**'] } } },
  });
  try {
    const garbled = await warden.check({ agent: 'bot', type: 'sql.query', params: { sql: 'SELEC oops' } });
    assert.equal(garbled.effect, 'deny');
    assert.equal(garbled.reasons[0]?.code, 'risk.sql-unparsable');
    const drop = await warden.check({ agent: 'bot', type: 'sql.query', params: { sql: 'DROP TABLE users' } });
    assert.equal(drop.effect, 'deny');
    // Classified from its parse tree (a DROP), then refused for want of a grant.
    assert.deepEqual(drop.reasons.map((r) => r.code).sort(), [
      'permissions.not-granted',
      'risk.sql-destructive',
    ]);
    assert.equal(sqlParserLoaded(), true);
  } finally {
    await warden.close();
  }
});

test('a policy that grants SQL and commands has both parsers loaded before its first decision', async () => {
  const warden = await testWarden({
    agents: { dev: { allow: ['sql.query', 'shell.exec'], resources: { tables: ['*'] } } },
    sandbox: { backend: 'none' },
  });
  try {
    assert.equal(sqlParserLoaded(), true);
    assert.equal(shellParserLoaded(), true);
    const evil = await warden.check({ agent: 'dev', type: 'shell.exec', params: { command: 'eval "$X"' } });
    assert.equal(evil.reasons[0]?.code, 'shell.eval');
  } finally {
    await warden.close();
  }
});
