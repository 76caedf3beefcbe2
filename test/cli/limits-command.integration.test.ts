import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createWarden } from '../../src/pipeline/warden.js';
import { loadPolicyFile } from '../../src/policy/load.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { runCli, tempDir } from '../helpers/cli.js';

const tmp = tempDir();
after(() => tmp.remove());

test('warden limits reads the SQLite store and prints usage as a table or JSON', async () => {
  const policyFile = join(tmp.dir, 'warden.yaml');
  writeFileSync(
    policyFile,
    [
      'agents:',
      '  research: { allow: [search.web] }',
      '  writer: { allow: [search.web] }',
      'limits:',
      '  rate:',
      '    - windows: { 1m: 10, 1h: 100 }',
      '  budgets:',
      '    - usd: 2',
      '',
    ].join('\n'),
  );
  const db = join(tmp.dir, 'warden.db');
  const store = await openSqliteStore(db);
  const warden = await createWarden({ policy: loadPolicyFile(policyFile), store });
  for (let i = 0; i < 3; i++)
    await warden.run({ agent: 'research', type: 'search.web', cost: { usd: 0.5 } }, () => 'ok');
  await warden.close();
  await store.close();

  const json = await runCli(['limits', '--policy', policyFile, '--db', db, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const view = JSON.parse(json.stdout) as {
    agents: { agent: string; limits: { name: string; used: number }[] }[];
  };
  assert.deepEqual(
    view.agents.map((a) => a.agent),
    ['research', 'writer'],
  );
  const research = view.agents[0]?.limits ?? [];
  assert.deepEqual(
    research.map((l) => [l.name, l.used]),
    [
      ['rate:agent:1m', 3],
      ['rate:agent:1h', 3],
      ['budget:agent:total', 1.5],
    ],
  );

  const text = await runCli(['limits', '--policy', policyFile, '--db', db, '--agent', 'research']);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /research\s+rate:agent:1m\s+research\s+3\s+10\s+1m/);
  assert.match(text.stdout, /budget:agent:total\s+research\s+\$1\.50\s+\$2\.00\s+total/);
  assert.doesNotMatch(text.stdout, /writer/);

  const missing = await runCli(['limits', '--policy', policyFile, '--db', join(tmp.dir, 'nope.db')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no store at `.*nope\.db`: pass the --db/);
});

test('warden limits shows a tightened agent held to its lower limits, and how the tightening is lifted', async () => {
  const policyFile = join(tmp.dir, 'tight.yaml');
  writeFileSync(
    policyFile,
    [
      'agents:',
      '  research: { allow: [search.web] }',
      '  writer: { allow: [search.web] }',
      'limits:',
      '  rate:',
      '    - windows: { 1m: 10, 1h: 100 }',
      '',
    ].join('\n'),
  );
  const db = join(tmp.dir, 'tight.db');
  const store = await openSqliteStore(db);
  const warden = await createWarden({ policy: loadPolicyFile(policyFile), store });
  for (const agent of ['research', 'writer']) await warden.run({ agent, type: 'search.web' }, () => 'ok');
  await warden.overrides.change('research', 'tighten', 'monitor', 'a loop of search.web', {
    anomaly: 'anomaly.loop',
  });
  await warden.close();
  await store.close();

  const json = await runCli(['limits', '--policy', policyFile, '--db', db, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const view = JSON.parse(json.stdout) as {
    agents: { agent: string; limits: { name: string; limit: number }[] }[];
  };
  const limitsOf = (agent: string) =>
    view.agents.find((a) => a.agent === agent)?.limits.map((l) => [l.name, l.limit]);
  assert.deepEqual(limitsOf('research'), [
    ['rate:agent:1m', 2],
    ['rate:agent:1h', 25],
  ]);
  assert.deepEqual(limitsOf('writer'), [
    ['rate:agent:1m', 10],
    ['rate:agent:1h', 100],
  ]);

  const text = await runCli(['limits', '--policy', policyFile, '--db', db]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /research\s+rate:agent:1m\s+research\s+1\s+2\s+1m/);
  assert.match(
    text.stdout,
    /research: held to 1\/4 of its rate limits\. .*tightened after an anomaly \(a loop of search\.web\).*warden incident restore --agent research/,
  );
  assert.doesNotMatch(text.stdout, /writer: held/);
  const other = await runCli(['limits', '--policy', policyFile, '--db', db, '--agent', 'writer']);
  assert.doesNotMatch(other.stdout, /held to/);
});

test('warden limits reads the counters of a PostgreSQL store from --db, $WARDEN_DB or the policy store section', async () => {
  const pgUrl = process.env.WARDEN_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const schema = `h_pgaudit_limits_${process.pid}`;
  const url = `${pgUrl}?schema=${schema}`;
  const limits = ['limits:', '  rate:', '    - windows: { 1m: 10 }', '  budgets:', '    - usd: 2', ''];
  const policyFile = join(tmp.dir, 'pg.yaml');
  writeFileSync(policyFile, ['agents:', '  research: { allow: [search.web] }', ...limits].join('\n'));
  const { openPostgresStore } = await import('../../src/store/postgres/postgres-store.js');
  const store = await openPostgresStore({ url });
  try {
    const warden = await createWarden({ policy: loadPolicyFile(policyFile), store });
    for (let i = 0; i < 3; i++)
      await warden.run({ agent: 'research', type: 'search.web', cost: { usd: 0.25 } }, () => 'ok');
    await warden.overrides.change('research', 'tighten', 'monitor', 'a loop of search.web', {
      anomaly: 'anomaly.loop',
    });
    await warden.close();

    const used = (stdout: string) =>
      (
        JSON.parse(stdout) as { agents: { limits: { name: string; used: number; limit: number }[] }[] }
      ).agents[0]?.limits.map((l) => [l.name, l.used, l.limit]);
    const expected = [
      ['rate:agent:1m', 3, 2],
      ['budget:agent:total', 0.75, 2],
    ];
    const byFlag = await runCli(['limits', '--policy', policyFile, '--db', url, '--json']);
    assert.equal(byFlag.code, 0, byFlag.stderr);
    assert.deepEqual(used(byFlag.stdout), expected);

    const byEnv = await runCli(['limits', '--policy', policyFile, '--json'], { env: { WARDEN_DB: url } });
    assert.equal(byEnv.code, 0, byEnv.stderr);
    assert.deepEqual(used(byEnv.stdout), expected);

    const sectioned = join(tmp.dir, 'pg-store.yaml');
    writeFileSync(
      sectioned,
      ['store:', '  urlEnv: H_PGAUDIT_DB', 'agents:', '  research: { allow: [search.web] }', ...limits].join(
        '\n',
      ),
    );
    const text = await runCli(['limits', '--policy', sectioned], {
      env: { H_PGAUDIT_DB: url, WARDEN_DB: '' },
    });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /research\s+rate:agent:1m\s+research\s+3\s+2\s+1m/);
    assert.match(text.stdout, /research: held to 1\/4 of its rate limits/);

    const missing = await runCli([
      'limits',
      '--policy',
      policyFile,
      '--db',
      `${pgUrl}?schema=${schema}_none`,
    ]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /holds no Warden store/);
  } finally {
    await store.pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await store.close();
  }
});
