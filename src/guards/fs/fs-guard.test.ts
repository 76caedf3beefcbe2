import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { Warden } from '../../pipeline/warden.js';
import { testWarden } from '../../testing/index.js';
import { encodedPathProblem, FsScope, realLocation, within } from './fs-paths.js';

let base: string;
let root: string;
let warden: Warden;

before(async () => {
  base = realpathSync(mkdtempSync(join(tmpdir(), 'warden-fsg-')));
  root = join(base, 'root');
  mkdirSync(join(root, 'a', 'b'), { recursive: true });
  mkdirSync(join(base, 'outside'));
  writeFileSync(join(root, 'a', 'f.txt'), 'x');
  symlinkSync(join(base, 'outside'), join(root, 'out'));
  symlinkSync('..', join(root, 'a', 'up'));
  symlinkSync('b', join(root, 'a', 'in'));
  warden = await testWarden({
    agents: { c: { allow: ['fs.read', 'fs.write', 'fs.list'], resources: { paths: ['/**'] } } },
    fs: { roots: [root] },
  });
});

after(async () => {
  await warden?.close();
  rmSync(base, { recursive: true, force: true });
});

describe('path canonicalisation', () => {
  test('protected names match in any case, in any segment, and as consecutive segments', () => {
    const scope = new FsScope({
      roots: [],
      protected: ['.env', '.git/hooks', '*.pem'],
      protectedExtra: [],
      maxReadBytes: 1,
      maxWriteBytes: 1,
      maxListEntries: 1,
      deleteApproval: true,
      hardLinks: 'refuse',
    });
    assert.equal(scope.protectedBy('/w/.ENV'), '.env');
    assert.equal(scope.protectedBy('/w/.Git/HOOKS/pre-commit'), '.git/hooks');
    assert.equal(scope.protectedBy('/w/certs/Server.PEM'), '*.pem');
    assert.equal(scope.protectedBy('/w/hooks/.git'), undefined);
    assert.equal(scope.protectedBy('/w/environment.md'), undefined);
  });

  test('a root that itself sits under a protected-looking name still works; names below it are checked', async () => {
    const odd = join(base, 'certs.key');
    mkdirSync(odd, { recursive: true });
    writeFileSync(join(odd, 'notes.txt'), 'ok');
    const w = await testWarden({
      agents: { c: { allow: ['fs.read'], resources: { paths: ['/**'] } } },
      fs: { roots: [odd] },
    });
    try {
      const ok = await w.run({
        agent: 'c',
        type: 'fs.read',
        params: { path: `${odd}/notes.txt`, encoding: 'base64' },
      });
      assert.deepEqual(ok.output, {
        path: `${odd}/notes.txt`,
        content: 'b2s=',
        bytes: 2,
        encoding: 'base64',
      });
      const d = await w.check({ agent: 'c', type: 'fs.read', params: { path: `${odd}/server.pem` } });
      assert.deepEqual([d.effect, d.reasons[0]?.code], ['deny', 'fs.protected']);
    } finally {
      await w.close();
    }
  });

  test('encoded dots and slashes are recognised; ordinary names are not', () => {
    for (const p of [
      '/w/%2e%2e/x',
      '/w/%252e',
      '/w/\uff0e\uff0e/x',
      '/w/\u2024\u2024',
      '/w/a\\b',
      '/w/%c0%ae',
    ])
      assert.equal(encodedPathProblem(p)?.code, 'fs.encoded-path', p);
    for (const p of ['/w/100%.txt', '/w/café.md', '/w/v1.2.3.tgz', '/w/..hidden', '/w/日本語.txt'])
      assert.equal(encodedPathProblem(p), undefined, p);
  });

  test('a symlink in a parent directory is resolved even when the file does not exist yet', () => {
    assert.equal(realLocation(join(root, 'out', 'new', 'x.txt')), join(base, 'outside', 'new', 'x.txt'));
    assert.equal(realLocation(join(root, 'a', 'in', 'new.txt')), join(root, 'a', 'b', 'new.txt'));
  });

  test('a path missing several levels down is located below the real location of its deepest existing part, through any symlink', () => {
    assert.equal(
      realLocation(join(root, 'out', 'new', 'deeper', 'x.txt')),
      join(base, 'outside', 'new', 'deeper', 'x.txt'),
    );
    assert.equal(realLocation(join(root, 'a', 'up', 'missing', 'x.txt')), join(root, 'missing', 'x.txt'));
    assert.equal(
      realLocation(join(root, 'a', 'in', 'n1', 'n2', 'n3')),
      join(root, 'a', 'b', 'n1', 'n2', 'n3'),
    );
    assert.equal(realLocation('/warden-nowhere-a1/b/c.txt'), '/warden-nowhere-a1/b/c.txt');
    // Spellings that are not normalised are resolved segment by segment, as the kernel would.
    assert.equal(realLocation(`${root}/a/in/new/`), join(root, 'a', 'b', 'new'));
    assert.equal(realLocation(`${root}/out//new/./x`), join(base, 'outside', 'new', 'x'));
    assert.equal(realLocation(`${root}/a/up/../zz/y`), join(base, 'zz', 'y'));
  });

  test('an absolute path is made absolute exactly as posix.resolve makes it', () => {
    const scope = new FsScope({
      roots: [],
      protected: ['.env'],
      protectedExtra: [],
      maxReadBytes: 1,
      maxWriteBytes: 1,
      maxListEntries: 1,
      deleteApproval: true,
      hardLinks: 'refuse',
    });
    const segment = fc.constantFrom('..', '.', '', 'a', '...', '.x', 'x.', '..y');
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 6 }), fc.boolean(), (segs, slash) => {
        const raw = `/${segs.join('/')}${slash ? '/' : ''}`;
        assert.equal(scope.absolute(raw), posix.resolve(raw), raw);
      }),
      { numRuns: 500 },
    );
    assert.equal(scope.protectedBy('/w//.ENV/'), '.env');
    assert.equal(scope.protectedBy('//.env'), '.env');
    assert.equal(scope.protectedBy('/w/x.env'), undefined);
  });

  test('a dangling symlink is located where its target would be created, and a file through a file is nowhere', () => {
    symlinkSync(join(base, 'outside', 'later.txt'), join(root, 'a', 'dangling'));
    symlinkSync(join(base, 'outside', 'gone'), join(root, 'a', 'dangling-dir'));
    assert.equal(realLocation(join(root, 'a', 'dangling')), join(base, 'outside', 'later.txt'));
    assert.equal(
      realLocation(join(root, 'a', 'dangling-dir', 'x.txt')),
      join(base, 'outside', 'gone', 'x.txt'),
    );
    assert.equal(realLocation(join(root, 'a', 'f.txt', 'x')), join(root, 'a', 'f.txt', 'x'));
  });

  test('whatever path is made of `..`, `.`, empty, symlinked and ordinary segments, an allowed path lies inside the root', async () => {
    const segment = fc.constantFrom('..', '.', '', 'a', 'b', 'out', 'up', 'in', 'f.txt', 'new');
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { maxLength: 8 }),
        fc.constantFrom('fs.read', 'fs.write', 'fs.list'),
        async (segs, type) => {
          const path = `${root}/${segs.join('/')}`;
          const d = await warden.check({ agent: 'c', type, params: { path, content: 'x' } });
          if (d.effect !== 'allow') return true;
          const real = realLocation(posix.resolve(path));
          return within(real, root);
        },
      ),
      { numRuns: 300 },
    );
  });
});
