import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { ROOT, tempDir } from '../helpers/cli.js';

const tmp = tempDir('warden-bin-');
after(() => tmp.remove());

test('a stack trace through the minified bundle names the TypeScript file and line, the map being read only then', async () => {
  const source = join(tmp.dir, 'thrower.ts');
  writeFileSync(
    source,
    [
      'export function outer(): number {',
      '  return inner(2);',
      '}',
      'function inner(x: number): number {',
      "  if (x > 1) throw new Error('too big: ' + x);",
      '  return x;',
      '}',
      '',
    ].join('\n'),
  );
  const out = join(tmp.dir, 'bundle');
  await build({
    entryPoints: [source],
    outdir: out,
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'esm',
    platform: 'node',
    logLevel: 'silent',
  });
  const script = [
    `import { mapStackTraces } from ${JSON.stringify(pathToFileURL(join(ROOT, 'bin/source-maps.js')).href)};`,
    `mapStackTraces(${JSON.stringify(pathToFileURL(`${out}/`).href)});`,
    `const { outer } = await import(${JSON.stringify(pathToFileURL(join(out, 'thrower.js')).href)});`,
    'try { outer(); } catch (error) { console.log(error.stack); }',
  ].join('\n');
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n');
  assert.equal(lines[0], 'Error: too big: 2');
  assert.ok(lines[1]?.endsWith(`${source}:5:20)`), lines[1]);
  assert.ok(lines[2]?.endsWith(`${source}:2:10)`), lines[2]);
});

test('the compile cache lives in $WARDEN_CACHE_DIR, else in the OS cache folder under warden/', async () => {
  // bin/ is plain JavaScript (no declarations): typed here.
  const { compileCacheDir } = (await import(pathToFileURL(join(ROOT, 'bin/compile-cache.js')).href)) as {
    compileCacheDir: (env: Record<string, string>, platform: string) => string;
  };
  assert.equal(compileCacheDir({ WARDEN_CACHE_DIR: '/srv/cache' }, 'linux'), '/srv/cache/compile-cache');
  assert.equal(
    compileCacheDir({ XDG_CACHE_HOME: '/home/a/.xdg' }, 'linux'),
    '/home/a/.xdg/warden/compile-cache',
  );
  assert.match(compileCacheDir({}, 'darwin'), /Library\/Caches\/warden\/compile-cache$/);
  assert.equal(
    compileCacheDir({ LOCALAPPDATA: 'C:/Users/a/AppData/Local' }, 'win32').replaceAll('\\', '/'),
    'C:/Users/a/AppData/Local/warden/compile-cache',
  );
});

// bin/ is plain JavaScript (no declarations): typed here.
interface CodeCache {
  codeCacheWanted: () => boolean;
  codeCacheFile: (source: Buffer, dir: string) => string;
}
const codeCacheUrl = pathToFileURL(join(ROOT, 'bin/code-cache.js')).href;

/** Runs a CommonJS file through bin/code-cache.js in a new Node process (the cache is written at exit). */
function runThroughCodeCache(file: string, dir: string) {
  const script = [
    `import { runCached } from ${JSON.stringify(codeCacheUrl)};`,
    `const { answer } = runCached(${JSON.stringify(pathToFileURL(file).href)}, 'file:///x.js', ${JSON.stringify(dir)});`,
    'console.log(answer());',
  ].join('\n');
  return spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
}

test('the code cache is named after the bundle’s bytes, so a rebuilt bundle of the same length never gets the old code', async () => {
  const { codeCacheFile } = (await import(codeCacheUrl)) as CodeCache;
  const one = codeCacheFile(Buffer.from('exports.answer = () => 41;'), '/c');
  const two = codeCacheFile(Buffer.from('exports.answer = () => 42;'), '/c');
  assert.notEqual(one, two);
  assert.ok(one.startsWith(`/c/${process.version}-${process.platform}-${process.arch}-`), one);
});

test('a rejected code cache is rebuilt silently, and a cache folder that cannot be written only means no cache', async () => {
  const file = join(tmp.dir, 'cached.cjs');
  writeFileSync(file, 'exports.answer = () => 6 * 7;\n');
  const dir = join(tmp.dir, 'code-cache');
  const { codeCacheFile } = (await import(codeCacheUrl)) as CodeCache;
  const cacheFile = codeCacheFile(readFileSync(file), dir);

  const first = runThroughCodeCache(file, dir);
  assert.equal(first.status, 0, first.stderr);
  assert.equal(first.stdout.trim(), '42');
  assert.ok(existsSync(cacheFile), 'written as the first run exits');

  writeFileSync(cacheFile, 'not V8 code at all');
  const rejected = runThroughCodeCache(file, dir);
  assert.equal(rejected.status, 0, rejected.stderr);
  assert.equal(rejected.stdout.trim(), '42');
  assert.equal(rejected.stderr, '');
  assert.notEqual(readFileSync(cacheFile, 'utf8'), 'not V8 code at all', 'rewritten');

  const unwritable = join(tmp.dir, 'a-file');
  writeFileSync(unwritable, '');
  const without = runThroughCodeCache(file, join(unwritable, 'code-cache'));
  assert.equal(without.status, 0, without.stderr);
  assert.equal(without.stdout.trim(), '42');
  assert.equal(without.stderr, '');
});

test('a cache folder where the file system refuses folders (under /proc) does not keep the process from exiting', () => {
  if (process.platform !== 'linux') return;
  const file = join(tmp.dir, 'cached-proc.cjs');
  writeFileSync(file, 'exports.answer = () => 7;\n');
  // Node's recursive mkdir retried this for ever: the process spun at exit.
  const script = [
    `import { runCached } from ${JSON.stringify(codeCacheUrl)};`,
    `console.log(runCached(${JSON.stringify(pathToFileURL(file).href)}, 'file:///x.js', '/proc/warden-none/code-cache').answer());`,
  ].join('\n');
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(run.signal, null, 'it exited by itself');
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), '7');
});

/** The bundle `bin/warden.js` runs; built here (esbuild, a few seconds) on a fresh checkout. */
function ensureBundle(): void {
  if (existsSync(join(ROOT, 'dist/src/bundle/cli/cli.js'))) return;
  const bundled = spawnSync(process.execPath, [join(ROOT, 'scripts/bundle-cli.mjs')], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(bundled.status, 0, `scripts/bundle-cli.mjs failed: ${bundled.stderr}`);
}

test('bin/warden.js runs every command, `mcp` with and without the code cache', () => {
  ensureBundle();
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [join(ROOT, 'bin/warden.js'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, WARDEN_CACHE_DIR: join(tmp.dir, 'cache'), ...env },
    });
  const version = run(['--version']);
  assert.equal(version.status, 0, version.stderr);
  assert.equal(version.stdout.trim(), '0.1.0');
  for (const env of [{}, { WARDEN_CODE_CACHE: '0' }]) {
    const help = run(['mcp', '--help'], env);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: warden mcp --policy FILE/);
    const missing = run(['mcp'], env);
    assert.equal(missing.status, 2, missing.stderr);
    assert.equal(missing.stderr, 'warden: no policy: pass --policy FILE\n');
  }
});
