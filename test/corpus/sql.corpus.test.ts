import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Warden } from '../../src/pipeline/warden.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { testWarden } from '../../src/testing/index.js';
import { loadCorpus } from './corpus.js';

/**
 * The SQL guard's corpus, decided by a real Warden with the guide's policy: `DROP TABLE`,
 * `TRUNCATE` and `DELETE FROM users` forbidden, system catalogs off limits, writes allowed
 * (this agent's job includes them), DDL asked, destructive and administrative SQL denied.
 * Cases with `database: lite` are parsed as SQLite.
 */

export const SQL_CORPUS_POLICY: PolicyInput = {
  agents: {
    analyst: {
      allow: ['sql.query'],
      resources: { tables: { allow: ['*'], deny: ['pg_*', 'pg_catalog.*', 'information_schema.*'] } },
    },
  },
  sql: {
    writes: 'allow',
    ddl: 'ask',
    destructive: 'deny',
    admin: 'deny',
    forbid: ['drop', 'truncate'],
    forbidTables: { users: ['delete'] },
    databases: {
      app: { driver: 'postgres', url: 'postgres://corpus@127.0.0.1:1/never-connected' },
      lite: { driver: 'sqlite', file: 'never-opened.db' },
    },
    defaultDatabase: 'app',
  },
};

const attacks = loadCorpus('sql', 'attacks.jsonl');
const benign = loadCorpus('sql', 'benign.jsonl');
const bypasses = loadCorpus('sql', 'known-bypasses.jsonl');
let warden: Warden;

before(async () => {
  warden = await testWarden(SQL_CORPUS_POLICY);
});
after(async () => {
  await warden?.close();
});

describe('sql corpus', () => {
  test(`has at least 60 attack and 40 benign cases (${attacks.length}/${benign.length})`, () => {
    assert.ok(attacks.length >= 60);
    assert.ok(benign.length >= 40);
  });

  for (const c of attacks) {
    test(`attack ${c.id} is never allowed${c.code ? ` (${c.code})` : ''}`, async () => {
      const d = await warden.check({ agent: 'analyst', ...c.action });
      assert.notEqual(d.effect, 'allow', JSON.stringify(d));
      // A denial names its cause first; an ask lists the guard's reason among those that raised the risk.
      const codes = d.effect === 'deny' ? [d.reasons[0]?.code] : d.reasons.map((r) => r.code);
      if (c.code) assert.ok(codes.includes(c.code), JSON.stringify(d.reasons));
    });
  }

  for (const c of benign) {
    test(`benign ${c.id} is allowed`, async () => {
      const d = await warden.check({ agent: 'analyst', ...c.action });
      assert.equal(d.effect, 'allow', JSON.stringify(d));
    });
  }

  // INVARIANT: this list only shrinks. When a fix makes one of these refused, move it to attacks.
  for (const c of bypasses) {
    test(`known bypass ${c.id} is still allowed (documented in docs/guards.md)`, async () => {
      const d = await warden.check({ agent: 'analyst', ...c.action });
      assert.equal(d.effect, 'allow', `fixed? move \`${c.id}\` to attacks.jsonl: ${JSON.stringify(d)}`);
    });
  }
});
