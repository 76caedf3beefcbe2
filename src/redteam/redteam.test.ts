import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { policyFromObject } from '../policy/load.js';
import type { PolicyInput } from '../policy/schema.js';
import { analyzeSql, loadSqlParser } from '../sql/sql-analysis.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import { CATEGORIES, loadRedteamCorpus, type RedteamCase } from './corpus.js';
import { renderRedteamHtml } from './html.js';
import { policyDigest, runRedteam } from './run.js';
import { seeded, variantsOf } from './variants.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const corpus = loadRedteamCorpus();
let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-redteam-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('the shipped corpus', () => {
  test('every category has attacks and benign neighbours', () => {
    for (const category of CATEGORIES) {
      const cases = corpus.filter((c) => c.category === category);
      assert.ok(
        cases.some((c) => c.kind === 'attack'),
        `${category} has attacks`,
      );
      assert.ok(
        cases.some((c) => c.kind === 'benign'),
        `${category} has benign cases`,
      );
    }
    assert.ok(corpus.filter((c) => c.kind === 'attack').length >= 450, String(corpus.length));
  });

  test("is in step with the project's own corpora (scripts/redteam-corpus.mjs --check)", () => {
    const r = spawnSync(process.execPath, ['scripts/redteam-corpus.mjs', '--check'], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
  });
});

describe('the variant generator', () => {
  const attack = (type: string, params: Record<string, unknown>): RedteamCase => ({
    id: `t/${type}`,
    category: 'files',
    kind: 'attack',
    action: { type, params },
  });

  test('is deterministic for a seed and differs between seeds', () => {
    const c = attack('sql.query', { sql: 'SELECT * FROM users; DROP TABLE users' });
    const a = variantsOf(c, 5, seeded(19)).map((v) => v.action.params.sql);
    const b = variantsOf(c, 5, seeded(19)).map((v) => v.action.params.sql);
    const other = variantsOf(c, 5, seeded(20)).map((v) => v.action.params.sql);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, other);
    assert.ok(a.length >= 3);
  });

  test('SQL variants (case, whitespace, comments) parse to the same statements', async () => {
    await loadSqlParser();
    const rng = seeded(7);
    for (const sql of [
      "DELETE FROM users WHERE name = 'O''Brien'",
      'SELECT 1; DROP TABLE "Orders"',
      'DO $$ BEGIN PERFORM 1; END $$',
    ]) {
      const base = analyzeSql(sql);
      for (const v of variantsOf(attack('sql.query', { sql }), 6, rng)) {
        const got = analyzeSql(v.action.params.sql as string);
        assert.deepEqual([...got.kinds], [...base.kinds], v.id);
        assert.deepEqual(got.tables, base.tables, v.id);
      }
    }
  });

  test('URL variants name the same host once the URL is parsed', () => {
    const rng = seeded(3);
    for (const url of [
      'http://127.0.0.1:8080/admin',
      'http://169.254.169.254/latest/meta-data/',
      'http://localhost/x',
    ]) {
      const host = new URL(url).hostname;
      for (const v of variantsOf(attack('http.request', { url }), 8, rng)) {
        const parsed = new URL(v.action.params.url as string);
        const same = parsed.hostname.replace(/\.$/, '').toLowerCase();
        // `[::ffff:7f00:1]` is the IPv4-mapped form of the same address.
        assert.ok(same === host || same.startsWith('[::ffff:'), `${v.id}: ${parsed.hostname}`);
      }
    }
  });

  test('path variants are the same path, or a spelling Warden refuses as encoded', () => {
    const rng = seeded(5);
    const path = '/workspace/docs/../.env';
    for (const v of variantsOf(attack('fs.read', { path }), 10, rng)) {
      const p = v.action.params.path as string;
      if (/%2e|\uff0e/.test(p)) continue;
      assert.equal(posix.normalize(p).toLowerCase(), posix.normalize(path), v.id);
    }
  });

  test('benign cases and bursts get no variants', () => {
    const rng = seeded(1);
    assert.deepEqual(variantsOf({ ...attack('fs.read', { path: '/a/b' }), kind: 'benign' }, 5, rng), []);
    assert.deepEqual(variantsOf({ ...attack('fs.read', { path: '/a/b' }), repeat: 10 }, 5, rng), []);
  });
});

const STRONG: PolicyInput = {
  agents: {
    analyst: {
      allow: ['sql.query'],
      resources: { tables: { allow: ['*'], deny: ['pg_*', 'pg_catalog.*', 'information_schema.*'] } },
    },
  },
  sql: { writes: 'ask', ddl: 'deny', destructive: 'deny', admin: 'deny', forbid: ['drop', 'truncate'] },
  limits: { rate: [{ windows: { '1m': 60 } }], loop: { max: 5, window: '10m' } },
};
const sqlOnly = corpus.filter((c) => c.category === 'sql' || c.category === 'loops');

describe('warden redteam', () => {
  test('a sound policy blocks every attack it is granted; the report counts each category', async () => {
    const report = await runRedteam(policyFromObject(STRONG), { corpus: sqlOnly, variants: 2 });
    const sql = report.agents[0]?.categories.find((c) => c.category === 'sql');
    assert.ok(sql?.covered);
    assert.deepEqual(
      sql?.allowed.map((o) => o.id),
      [],
    );
    assert.ok((sql?.blocked ?? 0) > 100);
    assert.equal(report.ok, true);
  });

  test('a deliberately weakened policy fails, naming the attacks it lets through', async () => {
    const weak: PolicyInput = {
      ...STRONG,
      sql: { writes: 'allow', ddl: 'allow', destructive: 'allow', admin: 'deny', forbid: [] },
      rules: [{ id: 'trust-the-analyst', effect: 'allow', match: { type: 'sql.query' } }],
    };
    const report = await runRedteam(policyFromObject(weak), { corpus: sqlOnly, variants: 1 });
    assert.equal(report.ok, false);
    const allowed =
      report.agents[0]?.categories.find((c) => c.category === 'sql')?.allowed.map((o) => o.id) ?? [];
    assert.ok(allowed.includes('sql/guide-stacked-drop'), allowed.join(', '));
  });

  test('the HTML report is one self-contained file with a chart per category', async () => {
    const report = await runRedteam(policyFromObject(STRONG), { corpus: sqlOnly, variants: 0 });
    const html = renderRedteamHtml(report);
    assert.equal(html.match(/<svg/g)?.length, CATEGORIES.length);
    assert.doesNotMatch(html, /<script|<link|src=|href="http/);
  });

  test('the CLI exits 1 on the weakened policy, lists the cases, and records the run for warden check', () => {
    const file = join(dir, 'weak.yaml');
    writeFileSync(
      file,
      [
        'agents:',
        '  analyst: { allow: [sql.query], resources: { tables: ["*"] } }',
        'sql: { destructive: allow, ddl: allow, writes: allow, forbid: [] }',
        'rules:',
        '  - { id: trust-the-analyst, effect: allow, match: { type: sql.query } }',
      ].join('\n'),
    );
    const db = join(dir, 'w.db');
    const out = join(dir, 'report.html');
    const r = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'redteam',
        '--policy',
        file,
        '--db',
        db,
        '--out',
        out,
        '--variants',
        '0',
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /ALLOWED {2}analyst sql\/guide-stacked-drop/);
    assert.match(r.stdout, /recorded in .* as audit record 1/);
    assert.match(readFileSync(out, 'utf8'), /Allowed attacks/);
    return openSqliteStore(db).then(async (store) => {
      const [rec] = await store.audit.query({ type: 'redteam.run' });
      assert.equal((rec?.data as { ok?: boolean } | undefined)?.ok, false);
      await store.close();
    });
  });
});

describe('the policy digest a run is recorded with', () => {
  test('ignores whether monitoring runs (the deployment decides) and changes with anything else', () => {
    const base = policyFromObject(STRONG);
    const served = policyFromObject({ ...STRONG, monitoring: { enabled: true } });
    const changed = policyFromObject({ ...STRONG, sql: { ...STRONG.sql, destructive: 'ask' } });
    assert.equal(policyDigest(served), policyDigest(base));
    assert.notEqual(policyDigest(changed), policyDigest(base));
  });
});
