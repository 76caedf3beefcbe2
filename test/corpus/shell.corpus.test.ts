import assert from 'node:assert/strict';
import {
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Warden } from '../../src/pipeline/warden.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { testWarden } from '../../src/testing/index.js';
import { fill, readJsonl } from './corpus.js';

/**
 * The shell corpus (`test/corpus/shell/*.jsonl`). Until a sandbox exists the rules stage denies
 * every `shell.exec`; to show the guard's own verdict, these Wardens say a sandbox is available
 * and a rule allows `shell.exec`, so only the shell guard can refuse. Attacks are never allowed
 * and carry the code they name; benign commands are allowed.
 */

interface Case {
  id: string;
  command?: string;
  argv?: string[];
  expect: 'deny' | 'allow';
  code?: string;
}

function load(file: string): Case[] {
  return readJsonl<Case>('shell', file, (entry, where) => {
    if (!entry.id || !entry.expect || (entry.expect !== 'allow' && !entry.code))
      throw new Error(`${where}: every entry needs an id, an expect and (unless allowed) a code`);
    if ((entry.command === undefined) === (entry.argv === undefined))
      throw new Error(`${where}: give exactly one of command or argv`);
  });
}

/** The policy the corpus is judged under (also used by the bench): `shell/policy.json`. */
export const SHELL_CORPUS_POLICY = JSON.parse(
  readFileSync(new URL('./shell/policy.json', import.meta.url), 'utf8'),
) as PolicyInput;

const attacks = load('attacks.jsonl');
const benign = load('benign.jsonl');
let warden: Warden;

before(async () => {
  warden = await testWarden(SHELL_CORPUS_POLICY, { sandboxAvailable: true });
});
after(() => warden.close());

const action = (c: Case) => ({
  agent: 'dev',
  type: 'shell.exec',
  params: c.command !== undefined ? { command: c.command } : { argv: c.argv },
});

describe('shell corpus: attacks', () => {
  it(`has at least 60 attack cases (${attacks.length})`, () => assert.ok(attacks.length >= 60));
  for (const c of attacks) {
    it(`denies ${c.id} with ${c.code}`, async () => {
      const decision = await warden.check(action(c));
      assert.equal(decision.effect, 'deny', `${c.id} was ${decision.effect}`);
      assert.equal(decision.reasons[0]?.code, c.code, decision.reasons[0]?.message);
      assert.equal(decision.reasons[0]?.stage, 'guards');
    });
  }
});

describe('shell corpus: benign commands', () => {
  it(`has at least 40 benign cases (${benign.length})`, () => assert.ok(benign.length >= 40));
  for (const c of benign) {
    it(`allows ${c.id}`, async () => {
      const decision = await warden.check(action(c));
      assert.equal(decision.effect, 'allow', JSON.stringify(decision.reasons));
    });
  }
});

/**
 * Attacks the guard lets through today, each with why (docs/guards-http-shell.md lists them).
 * This list only shrinks: when a fix makes one of them denied, this test fails; move the case to
 * attacks.jsonl.
 */
describe('shell corpus: known bypasses (a list that only shrinks)', () => {
  for (const c of load('known-bypasses.jsonl')) {
    it(`still lets ${c.id} through (move it to attacks.jsonl once it is denied)`, async () => {
      const decision = await warden.check(action(c));
      assert.equal(decision.effect, 'allow', `${c.id} is denied now: move it to attacks.jsonl`);
    });
  }
});

describe('shell.exec without a sandbox', () => {
  it('is denied with sandbox.unavailable even when the guard allows the command', async () => {
    const bare = await testWarden({ ...SHELL_CORPUS_POLICY, sandbox: { backend: 'none' } });
    try {
      const decision = await bare.check({
        agent: 'dev',
        type: 'shell.exec',
        params: { command: 'git status' },
      });
      assert.equal(decision.effect, 'deny');
      assert.equal(decision.reasons[0]?.code, 'sandbox.unavailable');
      assert.match(decision.reasons[0]?.message ?? '', /sandbox/);
    } finally {
      await bare.close();
    }
  });
});

/**
 * Recursive commands and globs over a real tree (`attacks-tree.jsonl`, `benign-tree.jsonl`):
 * `config/.env` and `keys/server.pem` are protected, `linked/pem` is a symlink to the key, and
 * `src`, `docs`, `notes` hold ordinary files. A command that walks a tree holding a protected file
 * is refused; one that walks a clean tree is allowed.
 */
describe('shell corpus: protected files in the trees commands walk', () => {
  let root: string;
  let tree: Warden;
  before(async () => {
    root = join(realpathSync(mkdtempSync(join(tmpdir(), 'warden-shell-tree-'))), 'ws');
    for (const f of [
      'src/main.ts',
      'src/util/strings.ts',
      'docs/readme.md',
      'config/.env',
      'config/app.yaml',
      'keys/server.pem',
      'notes/a.txt',
    ]) {
      mkdirSync(dirname(join(root, f)), { recursive: true });
      writeFileSync(join(root, f), 'x');
    }
    mkdirSync(join(root, 'linked'));
    symlinkSync('../keys/server.pem', join(root, 'linked', 'pem'));
    const policy = structuredClone(SHELL_CORPUS_POLICY);
    policy.agents = { dev: { allow: ['shell.exec'], resources: { paths: [`${root}/**`] } } };
    const shell = policy.shell as { cwd: string; commands: Record<string, unknown> };
    shell.cwd = root;
    Object.assign(shell.commands, {
      cp: { paths: true },
      mv: { paths: true },
      tar: true,
      rsync: true,
      chmod: true,
      rm: true,
      zip: true,
      rg: true,
    });
    tree = await testWarden(policy, { sandboxAvailable: true });
  });
  after(async () => {
    await tree.close();
    rmSync(dirname(root), { recursive: true, force: true });
  });

  for (const c of load('attacks-tree.jsonl'))
    it(`denies ${c.id} with ${c.code}`, async () => {
      const d = await tree.check(fill(action(c), { root }));
      assert.deepEqual([d.effect, d.reasons[0]?.code], ['deny', c.code], d.reasons[0]?.message);
    });
  for (const c of load('benign-tree.jsonl'))
    it(`allows ${c.id}`, async () => {
      const d = await tree.check(fill(action(c), { root }));
      assert.equal(d.effect, 'allow', JSON.stringify(d.reasons));
    });
});
