import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadShellParser } from '../guards/shell/shell-parser.js';
import { loadSqlParser } from '../sql/pg-parser.js';
import { testWarden } from '../testing/index.js';

test('when the SQL or shell parser cannot load, every SQL query and command is refused, saying why', async () => {
  // As if the WebAssembly could not be loaded on this host (this process only).
  const broken = () => Promise.reject(new Error('no WebAssembly here'));
  await Promise.allSettled([loadSqlParser(broken), loadShellParser(broken)]);
  const warden = await testWarden({
    agents: { dev: { allow: ['sql.query', 'shell.exec'], resources: { tables: ['*'] } } },
    sandbox: { backend: 'none' },
  });
  try {
    const select = await warden.check({ agent: 'dev', type: 'sql.query', params: { sql: 'SELECT 1' } });
    assert.equal(select.effect, 'deny');
    assert.equal(select.reasons[0]?.code, 'risk.sql-parser-unavailable');
    assert.match(select.reasons[0]?.message ?? '', /SQL parser could not be loaded \(no WebAssembly here\)/);
    const ls = await warden.check({ agent: 'dev', type: 'shell.exec', params: { command: 'ls' } });
    assert.equal(ls.effect, 'deny');
    assert.equal(ls.reasons[0]?.code, 'shell.parser-unavailable');
    assert.match(ls.reasons[0]?.message ?? '', /shell parser could not be loaded \(no WebAssembly here\)/);
  } finally {
    await warden.close();
  }
});
