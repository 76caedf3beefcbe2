import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));

// The tamper tests cover workers loaded from .ts under tsx; this covers the shipped .js build.
test('verify workers load and detect tampering when running from compiled JavaScript', async () => {
  const outDir = join(root, 'test-output', `dist-${process.pid}`);
  const dir = mkdtempSync(join(tmpdir(), 'warden-compiled-'));
  try {
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    await run(
      process.execPath,
      [
        tsc,
        '-p',
        'tsconfig.build.json',
        '--outDir',
        outDir,
        '--declaration',
        'false',
        '--sourceMap',
        'false',
      ],
      { cwd: root },
    );
    const storeModule = pathToFileURL(join(outDir, 'src', 'store', 'sqlite', 'sqlite-store.js')).href;
    const { stdout } = await run(process.execPath, [
      join(root, 'test', 'fixtures', 'verify-compiled.mjs'),
      storeModule,
      join(dir, 'warden.db'),
    ]);
    const { clean, tampered } = JSON.parse(stdout);
    assert.equal(clean.ok, true);
    assert.equal(clean.records, 3000);
    assert.equal(tampered.ok, false);
    assert.deepEqual([tampered.firstBad.seq, tampered.firstBad.problem], [2500, 'seq-gap']);
  } finally {
    rmSync(outDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});
