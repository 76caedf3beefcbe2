import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FsScope } from '../guards/fs/fs-paths.js';
import type { Guard } from '../guards/guard.js';
import type { Warden } from '../pipeline/warden.js';
import { policyFromObject } from '../policy/load.js';
import type { PolicyInput } from '../policy/schema.js';
import { testWarden } from '../testing/index.js';
import { fsExecutors } from './fs-executor.js';

let base: string;
let root: string;
let outside: string;
const wardens: Warden[] = [];

function policyFor(extra: Partial<PolicyInput> = {}): PolicyInput {
  return {
    agents: { coder: { allow: ['fs.*'], resources: { paths: [`${root}/**`] } } },
    fs: { roots: [root], maxReadBytes: 1024, maxWriteBytes: 1024 },
    rules: [
      {
        id: 'tmp-deletes',
        effect: 'allow',
        match: { type: 'fs.delete', params: { path: { glob: `${root}/tmp/**` } } },
      },
    ],
    ...extra,
  };
}

async function make(guards: Guard[] = [], extra: Partial<PolicyInput> = {}): Promise<Warden> {
  const w = await testWarden(policyFor(extra), { guards });
  wardens.push(w);
  return w;
}

before(() => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-fs-')));
  root = join(base, 'root');
  outside = join(base, 'outside');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(join(root, 'tmp'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(root, 'notes.txt'), 'hello');
  writeFileSync(join(root, 'sub', 'file.txt'), 'inside');
  writeFileSync(join(root, '.env'), 'SECRET=1');
  writeFileSync(join(outside, 'file.txt'), 'outside secret');
  writeFileSync(join(outside, 'passwd'), 'root:x:0:0');
  symlinkSync(outside, join(root, 'escape')); // directory symlink out of the root
  symlinkSync(join(outside, 'passwd'), join(root, 'passwd-link')); // file symlink out
  symlinkSync(join(root, 'notes.txt'), join(root, 'notes-link')); // symlink that stays inside
  symlinkSync(join(root, '.env'), join(root, 'innocent')); // symlink to a protected file
});

after(async () => {
  for (const w of wardens) await w.close();
  rmSync(base, { recursive: true, force: true });
});

describe('file executor: ordinary work inside the root', () => {
  test('reads, writes, lists and deletes through run() with no executor of the caller', async () => {
    const w = await make();
    const read = await w.run({ agent: 'coder', type: 'fs.read', params: { path: `${root}/notes.txt` } });
    assert.equal(read.status, 'completed');
    assert.deepEqual(read.output, { path: `${root}/notes.txt`, content: 'hello', bytes: 5 });

    const write = await w.run({
      agent: 'coder',
      type: 'fs.write',
      params: { path: `${root}/tmp/new.txt`, content: 'héllo' },
    });
    assert.equal(write.status, 'completed', JSON.stringify(write.reason));
    assert.equal(readFileSync(join(root, 'tmp', 'new.txt'), 'utf8'), 'héllo');

    const list = await w.run({ agent: 'coder', type: 'fs.list', params: { path: root } });
    const names = (list.output as { entries: { name: string }[] }).entries.map((e) => e.name);
    assert.ok(names.includes('notes.txt') && names.includes('sub'));
    assert.ok(!names.includes('.env'), 'protected names are not listed');
    assert.equal((list.output as { hidden: number }).hidden, 1);

    const del = await w.run({ agent: 'coder', type: 'fs.delete', params: { path: `${root}/tmp/new.txt` } });
    assert.equal(del.status, 'completed');
    assert.equal(existsSync(join(root, 'tmp', 'new.txt')), false);
  });

  test('a write leaves no temporary file behind and replaces the file atomically', async () => {
    const w = await make();
    writeFileSync(join(root, 'tmp', 'a.txt'), 'old');
    const r = await w.run({
      agent: 'coder',
      type: 'fs.write',
      params: { path: `${root}/tmp/a.txt`, content: 'new' },
    });
    assert.equal(r.status, 'completed');
    assert.equal(readFileSync(join(root, 'tmp', 'a.txt'), 'utf8'), 'new');
    const leftovers = execFileSync('ls', ['-a', join(root, 'tmp')], { encoding: 'utf8' });
    assert.doesNotMatch(leftovers, /warden-.*\.tmp/);
  });

  test('a write creates the directories it needs, each inside the verified tree', async () => {
    const w = await make();
    const r = await w.run({
      agent: 'coder',
      type: 'fs.write',
      params: { path: `${root}/tmp/new/deeper/file.txt`, content: 'made' },
    });
    assert.equal(r.status, 'completed', JSON.stringify(r.reason));
    assert.equal(readFileSync(join(root, 'tmp', 'new', 'deeper', 'file.txt'), 'utf8'), 'made');
  });

  test('a symlink that stays inside the root is followed for reads', async () => {
    const w = await make();
    const r = await w.run({ agent: 'coder', type: 'fs.read', params: { path: `${root}/notes-link` } });
    assert.equal((r.output as { content: string }).content, 'hello');
  });

  test('deletes need approval by default (critical risk, fs.delete-approval)', async () => {
    const w = await make();
    const d = await w.check({ agent: 'coder', type: 'fs.delete', params: { path: `${root}/notes.txt` } });
    assert.equal(d.effect, 'ask');
    assert.equal(d.risk, 'critical');
    assert.ok(d.reasons.some((r) => r.code === 'fs.delete-approval'));
  });
});

describe('file guard: symlinks resolved against the real tree', () => {
  test('denies a path through a symlinked parent directory that points outside the root', async () => {
    const w = await make();
    const d = await w.check({ agent: 'coder', type: 'fs.read', params: { path: `${root}/escape/file.txt` } });
    assert.deepEqual([d.effect, d.reasons[0]?.code], ['deny', 'fs.symlink-escape']);
  });

  test('denies a write to a not-yet-existing file under a symlinked directory', async () => {
    const w = await make();
    const d = await w.check({
      agent: 'coder',
      type: 'fs.write',
      params: { path: `${root}/escape/new/x.txt`, content: 'x' },
    });
    assert.deepEqual([d.effect, d.reasons[0]?.code], ['deny', 'fs.symlink-escape']);
  });

  test('denies a file symlink that points outside the root', async () => {
    const w = await make();
    const d = await w.check({ agent: 'coder', type: 'fs.read', params: { path: `${root}/passwd-link` } });
    assert.deepEqual([d.effect, d.reasons[0]?.code], ['deny', 'fs.symlink-escape']);
  });

  test('denies an innocent-looking symlink to a protected file', async () => {
    const w = await make();
    const d = await w.check({ agent: 'coder', type: 'fs.read', params: { path: `${root}/innocent` } });
    assert.deepEqual([d.effect, d.reasons[0]?.code], ['deny', 'fs.protected']);
  });

  test("the guide's red-team path `../../../etc/passwd` is refused", async () => {
    const w = await make();
    const d = await w.check({ agent: 'coder', type: 'fs.read', params: { path: '../../../etc/passwd' } });
    assert.equal(d.effect, 'deny');
    const abs = await w.check({
      agent: 'coder',
      type: 'fs.read',
      params: { path: `${root}/../../../etc/passwd` },
    });
    assert.equal(abs.effect, 'deny');
  });
});

describe('file executor: the world changing between check and use', () => {
  test('refuses a write when a directory is swapped for a symlink after the check (TOCTOU)', async () => {
    mkdirSync(join(root, 'race'), { recursive: true });
    writeFileSync(join(root, 'race', 'file.txt'), 'inside');
    // The attacker acts after the file guard passed and before the executor runs.
    const swap: Guard = {
      name: 'attacker',
      appliesTo: (t) => t === 'fs.write',
      inspect() {
        renameSync(join(root, 'race'), join(root, 'race-old'));
        symlinkSync(outside, join(root, 'race'));
        return [];
      },
    };
    const w = await make([swap]);
    const r = await w.run({
      agent: 'coder',
      type: 'fs.write',
      params: { path: `${root}/race/file.txt`, content: 'pwned' },
    });
    assert.equal(r.decision.effect, 'allow', 'the check passed before the swap');
    assert.equal(r.status, 'failed');
    assert.match(r.reason?.message ?? '', /fs\.symlink-escape/);
    assert.equal(readFileSync(join(outside, 'file.txt'), 'utf8'), 'outside secret');
    assert.deepEqual(
      execFileSync('ls', ['-a', outside], { encoding: 'utf8' }).split('\n').filter(Boolean).sort(),
      ['.', '..', 'file.txt', 'passwd'],
    );
  });

  test('refuses to create missing directories under a directory swapped for a symlink', () => {
    const policy = policyFromObject(policyFor());
    const run = fsExecutors(new FsScope(policy.config.fs), policy);
    mkdirSync(join(root, 'race3'));
    rmSync(join(root, 'race3'), { recursive: true });
    symlinkSync(outside, join(root, 'race3'));
    const ctx = { signal: new AbortController().signal, deadline: Date.now() + 5000 };
    assert.throws(
      () =>
        run['fs.write']?.(
          {
            id: 'x',
            agent: 'coder',
            type: 'fs.write',
            params: { path: `${root}/race3/a/b/c.txt`, content: 'x' },
          },
          ctx,
        ),
      /fs\.symlink-escape/,
    );
    assert.equal(existsSync(join(outside, 'a')), false);
  });

  test('refuses reads, lists and deletes through a directory swapped after the check', () => {
    const scope = new FsScope(policyFromObject(policyFor()).config.fs);
    const policy = policyFromObject(policyFor());
    const run = fsExecutors(scope, policy);
    mkdirSync(join(root, 'race2'), { recursive: true });
    renameSync(join(root, 'race2'), join(root, 'race2-old'));
    symlinkSync(outside, join(root, 'race2'));
    const ctx = { signal: new AbortController().signal, deadline: Date.now() + 5000 };
    for (const type of ['fs.read', 'fs.delete', 'fs.list'] as const) {
      const path = type === 'fs.list' ? `${root}/race2/` : `${root}/race2/passwd`;
      assert.throws(
        () => run[type]?.({ id: 'x', agent: 'coder', type, params: { path } }, ctx),
        /fs\.symlink-escape/,
        type,
      );
    }
    assert.equal(readFileSync(join(outside, 'passwd'), 'utf8'), 'root:x:0:0');
  });

  test('a final symlink swapped in is followed only by checking its target again', () => {
    const policy = policyFromObject(policyFor());
    const run = fsExecutors(new FsScope(policy.config.fs), policy);
    writeFileSync(join(root, 'tmp', 'swap.txt'), 'fine');
    rmSync(join(root, 'tmp', 'swap.txt'));
    symlinkSync(join(outside, 'passwd'), join(root, 'tmp', 'swap.txt'));
    const ctx = { signal: new AbortController().signal, deadline: Date.now() + 5000 };
    assert.throws(
      () =>
        run['fs.read']?.(
          { id: 'x', agent: 'coder', type: 'fs.read', params: { path: `${root}/tmp/swap.txt` } },
          ctx,
        ),
      /fs\.symlink-escape/,
    );
    // A write replaces the link itself; the file it pointed at is untouched.
    run['fs.write']?.(
      {
        id: 'y',
        agent: 'coder',
        type: 'fs.write',
        params: { path: `${root}/tmp/swap.txt`, content: 'mine' },
      },
      ctx,
    );
    assert.equal(readFileSync(join(outside, 'passwd'), 'utf8'), 'root:x:0:0');
    assert.equal(lstatSync(join(root, 'tmp', 'swap.txt')).isFile(), true);
    // A delete removes a link, never its target.
    symlinkSync(join(outside, 'passwd'), join(root, 'tmp', 'link2'));
    const out = run['fs.delete']?.(
      { id: 'z', agent: 'coder', type: 'fs.delete', params: { path: `${root}/tmp/link2` } },
      ctx,
    );
    assert.deepEqual(out, { path: `${root}/tmp/link2`, deleted: 'symlink' });
    assert.equal(existsSync(join(outside, 'passwd')), true);
  });
});

describe('file guard and executor: dangling symlinks', () => {
  test('denies a write through a dangling symlink whose target would be created outside the root', async () => {
    symlinkSync(join(outside, 'planted.sh'), join(root, 'tmp', 'dangling'));
    symlinkSync(join(outside, 'newdir'), join(root, 'tmp', 'dangling-dir'));
    const w = await make();
    for (const path of [`${root}/tmp/dangling`, `${root}/tmp/dangling-dir/x/y.txt`]) {
      const d = await w.check({ agent: 'coder', type: 'fs.write', params: { path, content: 'x' } });
      assert.deepEqual([d.effect, d.reasons[0]?.code], ['deny', 'fs.symlink-escape'], path);
    }
  });

  test('a dangling symlink whose target stays inside the root is written like any new file', async () => {
    symlinkSync('fresh.txt', join(root, 'tmp', 'dangling-inside'));
    const w = await make();
    const d = await w.check({
      agent: 'coder',
      type: 'fs.write',
      params: { path: `${root}/tmp/dangling-inside`, content: 'x' },
    });
    assert.equal(d.effect, 'allow', JSON.stringify(d.reasons));
  });

  test('at use, a dangling symlink swapped in after the check is replaced, never written through', () => {
    const policy = policyFromObject(policyFor());
    const run = fsExecutors(new FsScope(policy.config.fs), policy);
    symlinkSync(join(outside, 'late.sh'), join(root, 'tmp', 'late-link'));
    const ctx = { signal: new AbortController().signal, deadline: Date.now() + 5000 };
    run['fs.write']?.(
      { id: 'l', agent: 'coder', type: 'fs.write', params: { path: `${root}/tmp/late-link`, content: 'x' } },
      ctx,
    );
    assert.equal(existsSync(join(outside, 'late.sh')), false);
    assert.equal(lstatSync(join(root, 'tmp', 'late-link')).isFile(), true);
  });
});

describe('file guard and executor: hard links', () => {
  const ctx = () => ({ signal: new AbortController().signal, deadline: Date.now() + 5000 });

  test('refuses to read a hard link inside the root to a file outside it (fs.hard-link)', async () => {
    linkSync(join(outside, 'file.txt'), join(root, 'linked.txt'));
    const w = await make();
    const r = await w.run({ agent: 'coder', type: 'fs.read', params: { path: `${root}/linked.txt` } });
    assert.deepEqual([r.decision.effect, r.decision.reasons[0]?.code], ['deny', 'fs.hard-link']);
    assert.match(r.decision.reasons[0]?.message ?? '', /2 names.*fs\.hardLinks: allow/);
    assert.equal(r.output, undefined);
    // The executor refuses it on its own too, for callers that skip the guard.
    const policy = policyFromObject(policyFor());
    const run = fsExecutors(new FsScope(policy.config.fs), policy);
    assert.throws(
      () =>
        run['fs.read']?.(
          { id: 'x', agent: 'coder', type: 'fs.read', params: { path: `${root}/linked.txt` } },
          ctx(),
        ),
      /fs\.hard-link/,
    );
  });

  test('refuses a hard link swapped in after the check, on the descriptor it opened', async () => {
    writeFileSync(join(root, 'tmp', 'late.txt'), 'harmless');
    const swap: Guard = {
      name: 'attacker',
      appliesTo: (t) => t === 'fs.read',
      inspect() {
        rmSync(join(root, 'tmp', 'late.txt'));
        linkSync(join(outside, 'passwd'), join(root, 'tmp', 'late.txt'));
        return [];
      },
    };
    const w = await make([swap]);
    const r = await w.run({ agent: 'coder', type: 'fs.read', params: { path: `${root}/tmp/late.txt` } });
    assert.equal(r.decision.effect, 'allow', 'the check passed before the swap');
    assert.equal(r.status, 'failed');
    assert.match(r.reason?.message ?? '', /fs\.hard-link/);
    assert.equal(r.output, undefined);
  });

  test('with fs.hardLinks: allow, a hard link reads like any file', async () => {
    linkSync(join(outside, 'file.txt'), join(root, 'tmp', 'allowed.txt'));
    const w = await make([], { fs: { roots: [root], maxReadBytes: 1024, hardLinks: 'allow' } });
    const r = await w.run({ agent: 'coder', type: 'fs.read', params: { path: `${root}/tmp/allowed.txt` } });
    assert.equal(r.status, 'completed', JSON.stringify(r.reason ?? r.decision));
    assert.equal((r.output as { content: string }).content, 'outside secret');
  });

  test('an ordinary file still reads; a directory (link count above 1) is not a hard link', async () => {
    const w = await make();
    const read = await w.run({ agent: 'coder', type: 'fs.read', params: { path: `${root}/sub/file.txt` } });
    assert.equal(read.status, 'completed', JSON.stringify(read.reason ?? read.decision));
    assert.equal((read.output as { content: string }).content, 'inside');
    assert.ok(statSync(root).nlink > 2, 'the root has subdirectories');
    const list = await w.run({ agent: 'coder', type: 'fs.list', params: { path: root } });
    assert.equal(list.status, 'completed');
    const dir = await w.run({ agent: 'coder', type: 'fs.read', params: { path: root } });
    assert.match(dir.reason?.message ?? '', /fs\.not-a-file/);
  });

  test('writes replace a hard link and deletes remove only the link; the outside file is untouched', () => {
    const policy = policyFromObject(policyFor());
    const run = fsExecutors(new FsScope(policy.config.fs), policy);
    linkSync(join(outside, 'file.txt'), join(root, 'tmp', 'w.txt'));
    linkSync(join(outside, 'file.txt'), join(root, 'tmp', 'd.txt'));
    run['fs.write']?.(
      { id: 'w', agent: 'coder', type: 'fs.write', params: { path: `${root}/tmp/w.txt`, content: 'mine' } },
      ctx(),
    );
    const out = run['fs.delete']?.(
      { id: 'd', agent: 'coder', type: 'fs.delete', params: { path: `${root}/tmp/d.txt` } },
      ctx(),
    );
    assert.deepEqual(out, { path: `${root}/tmp/d.txt`, deleted: 'file' });
    assert.equal(readFileSync(join(root, 'tmp', 'w.txt'), 'utf8'), 'mine');
    assert.equal(readFileSync(join(outside, 'file.txt'), 'utf8'), 'outside secret');
  });
});

describe('file executor: caps and odd files', () => {
  test('refuses to read a file over fs.maxReadBytes and a write over fs.maxWriteBytes', async () => {
    writeFileSync(join(root, 'big.txt'), 'x'.repeat(2048));
    const w = await make();
    const r = await w.run({ agent: 'coder', type: 'fs.read', params: { path: `${root}/big.txt` } });
    assert.equal(r.status, 'failed');
    assert.match(r.reason?.message ?? '', /fs\.too-large/);
    const d = await w.check({
      agent: 'coder',
      type: 'fs.write',
      params: { path: `${root}/tmp/b.txt`, content: 'y'.repeat(2048) },
    });
    assert.deepEqual([d.effect, d.reasons[0]?.code], ['deny', 'fs.too-large']);
  });

  test('refuses to read a FIFO without hanging', async () => {
    execFileSync('mkfifo', [join(root, 'tmp', 'fifo')]);
    const w = await make();
    const r = await w.run({ agent: 'coder', type: 'fs.read', params: { path: `${root}/tmp/fifo` } });
    assert.equal(r.status, 'failed');
    assert.match(r.reason?.message ?? '', /fs\.not-a-file/);
  });

  test('refuses to delete a non-empty directory (no recursive deletes)', async () => {
    mkdirSync(join(root, 'tmp', 'full'));
    writeFileSync(join(root, 'tmp', 'full', 'x'), 'x');
    const w = await make();
    const r = await w.run({ agent: 'coder', type: 'fs.delete', params: { path: `${root}/tmp/full` } });
    assert.equal(r.status, 'failed');
    assert.equal(existsSync(join(root, 'tmp', 'full', 'x')), true);
  });
});
