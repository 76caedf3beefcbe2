import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import type { ICruiseResult } from 'dependency-cruiser';
import { cruiseSrc, describeViolations, layerImports } from '../../scripts/import-graph.mjs';

/** A tree of its own in the temp directory, cruised with the project's rules. */
function fixture(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'warden-layers-'));
  const tsconfig = { compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true } };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ ...tsconfig, include: ['src'] }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

describe('the layer rules', () => {
  it('report an upward import, even a type-only one, and a circle', async () => {
    const dir = fixture({
      'src/contract/a.ts': "import type { B } from '../pipeline/b.js';\nexport type A = B;\n",
      'src/pipeline/b.ts': 'export type B = string;\n',
      'src/lib/c.ts': "import { d } from './d.js';\nexport const c = () => d;\n",
      'src/lib/d.ts': "import { c } from './c.js';\nexport const d = () => c;\n",
    });
    try {
      const { summary } = await cruiseSrc(dir);
      const found = describeViolations(summary.violations);
      assert.ok(found.includes('layer-contract: src/contract/a.ts → src/pipeline/b.ts'), found.join('\n'));
      assert.ok(
        found.some(
          (v) =>
            v.startsWith('no-circular: src/lib/c.ts → src/lib/d.ts') ||
            v.startsWith('no-circular: src/lib/d.ts → src/lib/c.ts'),
        ),
        found.join('\n'),
      );
      assert.equal(summary.error, found.length, 'every violation is an error, so lint fails on it');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('allow imports that point down', async () => {
    const dir = fixture({
      'src/pipeline/b.ts': "import type { A } from '../contract/a.js';\nexport type B = A;\n",
      'src/contract/a.ts': 'export type A = string;\n',
    });
    try {
      const { summary } = await cruiseSrc(dir);
      assert.deepEqual(describeViolations(summary.violations), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("Warden's own src/", () => {
  let result: ICruiseResult;
  before(async () => {
    result = await cruiseSrc();
  });

  // Until the server's routes stop importing src/server/app.ts back, this lists those circles.
  it('has no upward import and no circle', () => {
    assert.deepEqual(describeViolations(result.summary.violations), []);
  });

  it('puts every folder on a layer of scripts/layers.cjs', () => {
    assert.deepEqual(layerImports(result.modules).unlayered, []);
  });
});
