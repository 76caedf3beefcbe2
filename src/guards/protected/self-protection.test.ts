import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import type { Warden } from '../../pipeline/warden.js';
import { policyFromObject } from '../../policy/load.js';
import type { PolicyInput } from '../../policy/schema.js';
import { testWarden } from '../../testing/index.js';
import { fsScopeOf, selfProtectedOf } from '../fs/self-protected.js';

let root: string;
let warden: Warden;

function policy(extra: Partial<PolicyInput> = {}): PolicyInput {
  return {
    agents: {
      coder: {
        allow: ['fs.*', 'shell.exec', 'code.exec', 'sql.query'],
        resources: { paths: [`${root}/**`], tables: ['*'] },
        code: [`${root}/agents/coder/**`],
      },
    },
    fs: { roots: [root] },
    shell: {
      cwd: root,
      commands: { cat: { paths: true }, grep: true, ls: { paths: true }, cp: { paths: true } },
    },
    sql: {
      databases: {
        store: { driver: 'sqlite', file: `${root}/.warden/warden.db` },
        app: { driver: 'sqlite', file: `${root}/app.db` },
      },
    },
    ...extra,
  };
}

before(async () => {
  root = realpathSync(mkdtempSync(join(tmpdir(), 'warden-self-')));
  for (const dir of ['.warden', 'src', 'agents/coder', 'agents/coder-notes', 'docs'])
    mkdirSync(join(root, dir), { recursive: true });
  for (const file of ['.warden/warden.db', 'app.db']) new Database(join(root, file)).close();
  writeFileSync(join(root, 'warden.yaml'), 'version: 1\n');
  writeFileSync(join(root, 'src/app.ts'), 'export {};\n');
  writeFileSync(join(root, 'agents/coder/prompt.md'), 'be careful\n');
  writeFileSync(join(root, 'docs/readme.md'), 'hello\n');
  symlinkSync(join(root, '.warden'), join(root, 'state'));
  symlinkSync(join(root, 'docs'), join(root, 'manual'));
  warden = await testWarden(policy());
});

after(async () => {
  await warden?.close();
  rmSync(root, { recursive: true, force: true });
});

async function decide(type: string, params: Record<string, unknown>) {
  const d = await warden.check({ agent: 'coder', type, params });
  return { effect: d.effect, code: d.reasons[0]?.code };
}

describe('self-protection: Warden’s own files are refused to every agent, their neighbours are not', () => {
  test('fs: the policy file, the store and `.warden/` are refused; a file beside them is not', async () => {
    assert.deepEqual(await decide('fs.write', { path: `${root}/warden.yaml`, content: 'x' }), {
      effect: 'deny',
      code: 'fs.protected',
    });
    assert.equal(
      (await decide('fs.write', { path: `${root}/.warden/warden.db`, content: 'x' })).code,
      'fs.protected',
    );
    assert.equal((await decide('fs.read', { path: `${root}/.warden/tokens.json` })).code, 'fs.protected');
    assert.equal((await decide('fs.delete', { path: `${root}/.warden` })).code, 'fs.protected');
    assert.notEqual(
      (await decide('fs.write', { path: `${root}/src/app.ts`, content: 'x' })).code,
      'fs.protected',
    );
    assert.notEqual(
      (await decide('fs.write', { path: `${root}/warden-notes.md`, content: 'x' })).code,
      'fs.protected',
    );
  });

  test('fs: an agent’s own code (`agents.NAME.code`) is refused, a sibling directory is not', async () => {
    assert.equal(
      (await decide('fs.write', { path: `${root}/agents/coder/prompt.md`, content: 'x' })).code,
      'fs.protected',
    );
    assert.equal(
      (await decide('fs.write', { path: `${root}/agents/coder-notes/a.md`, content: 'x' })).effect,
      'allow',
    );
  });

  test('symlinks: a link into `.warden/` is refused, a link to an ordinary directory is not', async () => {
    assert.equal((await decide('fs.read', { path: `${root}/state/warden.db` })).code, 'fs.protected');
    assert.equal((await decide('fs.read', { path: `${root}/manual/readme.md` })).effect, 'allow');
  });

  test('shell: an operand, a glob and a recursive walk that reach Warden’s files are refused', async () => {
    assert.equal((await decide('shell.exec', { command: 'cat .warden/warden.db' })).code, 'shell.protected');
    assert.equal((await decide('shell.exec', { command: 'cat ./wa*.yaml' })).code, 'shell.protected');
    assert.equal(
      (await decide('shell.exec', { command: 'cat agents/coder/prompt.md' })).code,
      'shell.protected',
    );
    assert.equal((await decide('shell.exec', { command: 'grep -r token .' })).code, 'shell.protected');
    assert.equal((await decide('shell.exec', { command: 'cp -r state backup' })).code, 'shell.protected');
  });

  test('shell: the same commands on ordinary files pass the guard', async () => {
    for (const command of ['cat src/app.ts', 'cat ./src/*.ts', 'grep -r token src', 'ls docs'])
      assert.notEqual((await decide('shell.exec', { command })).code?.startsWith('shell.'), true, command);
  });

  test('code: a program naming Warden’s files, directly, by a glob or through a symlink, is refused', async () => {
    const deny = [
      "open('.warden/warden.db').read()",
      `open("${root}/warden.yaml", "w")`,
      "import glob; glob.glob('.ward*/*')",
      "open('state/warden.db')",
    ];
    for (const code of deny)
      assert.equal((await decide('code.exec', { language: 'python', code })).code, 'code.protected', code);
  });

  test('code: a program naming ordinary files is not refused by the guard', async () => {
    for (const code of ["open('src/app.ts').read()", "open('docs/readme.md')", "print('warden')"])
      assert.notEqual((await decide('code.exec', { language: 'python', code })).code, 'code.protected', code);
  });

  test('SQL on Warden’s store is refused; another SQLite database is not', async () => {
    assert.equal(
      (await decide('sql.query', { sql: 'SELECT * FROM audit', database: 'store' })).code,
      'sql.protected',
    );
    assert.notEqual((await decide('sql.query', { sql: 'SELECT 1', database: 'app' })).code, 'sql.protected');
  });

  test('an exception named in `selfProtection.exceptions` lets the agent reach that file', async () => {
    const w = await testWarden(policy({ selfProtection: { exceptions: ['warden.yaml'] } }));
    try {
      const d = await w.check({
        agent: 'coder',
        type: 'fs.write',
        params: { path: `${root}/warden.yaml`, content: 'x' },
      });
      assert.equal(d.effect, 'allow');
    } finally {
      await w.close();
    }
  });

  test('the policy file Warden loaded and its store file are protected wherever they are', () => {
    const compiled = policyFromObject(policy());
    const named = { ...compiled, source: '/etc/warden/agents.yaml' };
    const scope = fsScopeOf(named, '/var/lib/warden/state.db');
    assert.equal(scope.protectedBy('/etc/warden/agents.yaml'), '/etc/warden/agents.yaml');
    assert.equal(scope.protectedBy('/var/lib/warden/state.db-wal'), '/var/lib/warden/state.db-wal');
    assert.equal(scope.protectedBy('/etc/warden/other.yaml'), undefined);
    const off = policyFromObject(policy({ selfProtection: { enabled: false } }));
    assert.deepEqual(selfProtectedOf(off), { names: [], paths: [] });
  });
});
