import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Warden } from '../../src/pipeline/warden.js';
import { testWarden } from '../../src/testing/index.js';
import { fill, loadCorpus } from './corpus.js';
import { buildFsFixture } from './fs-fixture.js';

/**
 * The file guard's corpus: every attack is never allowed, every benign case is allowed and then
 * actually performed by Warden's executor on a real tree with real symlinks.
 */

const attacks = loadCorpus('fs', 'attacks.jsonl');
const benign = loadCorpus('fs', 'benign.jsonl');
const bypasses = loadCorpus('fs', 'known-bypasses.jsonl');

let base: string;
let root: string;
let outside: string;
let warden: Warden;

before(async () => {
  ({ base, root, outside } = buildFsFixture());
  warden = await testWarden({
    agents: { coder: { allow: ['fs.*'], resources: { paths: ['/**'] } } },
    fs: { roots: [root], maxWriteBytes: 1024 },
    rules: [
      {
        id: 'scratch-deletes',
        effect: 'allow',
        match: { type: 'fs.delete', params: { path: { glob: `${root}/tmp/**` } } },
      },
    ],
  });
});

after(async () => {
  await warden?.close();
  if (base) rmSync(base, { recursive: true, force: true });
});

describe('fs corpus', () => {
  test(`has at least 60 attack and 40 benign cases (${attacks.length}/${benign.length})`, () => {
    assert.ok(attacks.length >= 60);
    assert.ok(benign.length >= 40);
  });

  for (const c of attacks) {
    test(`attack ${c.id} is never allowed${c.code ? ` (${c.code})` : ''}`, async () => {
      const action = { agent: 'coder', ...fill(c.action, { root }) };
      const d = await warden.check(action);
      assert.notEqual(d.effect, 'allow', JSON.stringify({ action, d }));
      if (c.code) assert.equal(d.reasons[0]?.code, c.code, JSON.stringify(d.reasons));
    });
  }

  for (const c of benign) {
    test(`benign ${c.id} is allowed and performed`, async () => {
      const action = { agent: 'coder', ...fill(c.action, { root }) };
      const r = await warden.run(action);
      assert.equal(r.decision.effect, 'allow', JSON.stringify(r.decision));
      assert.equal(r.status, 'completed', JSON.stringify(r.reason));
    });
  }

  test('the file outside the root behind the hard links is unchanged by the benign writes and deletes', () => {
    assert.equal(readFileSync(join(outside, 'secret.txt'), 'utf8'), 'outside');
  });

  // INVARIANT: this list only shrinks. When a fix makes one of these refused, move it to attacks.
  for (const c of bypasses) {
    test(`known bypass ${c.id} is still allowed (documented in docs/guards.md)`, async () => {
      const d = await warden.check({ agent: 'coder', ...fill(c.action, { root }) });
      assert.equal(d.effect, 'allow', `fixed? move \`${c.id}\` to attacks.jsonl: ${JSON.stringify(d)}`);
    });
  }
});
