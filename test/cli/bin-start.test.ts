import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
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
