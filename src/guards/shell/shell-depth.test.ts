import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import type { Action } from '../../contract/action.js';
import { policyFromObject } from '../../policy/load.js';
import type { Guard } from '../guard.js';
import { compileShell, createShellGuard } from './shell-guard.js';
import { loadShellParser } from './shell-parser.js';
import { MAX_SHELL_DEPTH } from './shell-walk.js';

// The shell corpus policy: `ls`, `cat`, `echo`, `git …` allowed under /workspace.
const policy = policyFromObject(
  JSON.parse(readFileSync(new URL('../../../test/corpus/shell/policy.json', import.meta.url), 'utf8')),
);
let guard: Guard;
before(async () => {
  await loadShellParser();
  guard = createShellGuard(compileShell(policy.config.shell), policy);
});

const verdict = (command: string) => {
  const action: Action = { agent: 'dev', type: 'shell.exec', params: { command }, id: 'depth' };
  return guard.inspect(action, new Map()) as { code?: string }[];
};
const nest = (open: string, middle: string, close: string, n: number) =>
  `${open.repeat(n)}${middle}${close.repeat(n)}`;

describe('shell guard: nesting depth', () => {
  for (const n of [20_000, 200_000]) {
    it(`refuses ${n.toLocaleString('en')} nested \`$(\` as shell.too-deep, without a crash`, () => {
      assert.deepEqual(
        verdict(`echo ${nest('$(', 'ls', ')', n)}`).map((f) => f.code),
        ['shell.too-deep'],
      );
    });
    it(`refuses ${n.toLocaleString('en')} nested subshells, arithmetic and \`&&\` chains as shell.too-deep`, () => {
      for (const command of [
        nest('(', 'ls', ')', n),
        `echo $((${nest('(', '1', ')', n)}))`,
        `echo "${nest('"$(', 'ls', ')"', n)}"`,
        Array.from({ length: n }, () => 'ls').join(' && '),
        `${nest('if ls; then ', 'ls; ', 'fi; ', n)}`,
      ])
        assert.deepEqual(
          verdict(command).map((f) => f.code),
          ['shell.too-deep'],
          command.slice(0, 30),
        );
    });
  }

  it('refuses an unclosed deep nesting (a parse error) with a reason, without a crash', () => {
    const codes = verdict(`echo ${'$('.repeat(20_000)}ls`).map((f) => f.code);
    assert.equal(codes.length, 1);
    assert.ok(['shell.too-deep', 'shell.unparsable'].includes(codes[0] ?? ''), String(codes[0]));
  });

  it('still checks ordinary nested substitutions: allowed ones pass, a denied command inside is found', () => {
    assert.deepEqual(verdict('echo "branch: $(echo "$(git branch --show-current)")" $(echo $(ls))'), []);
    assert.deepEqual(verdict('(ls && (ls; (git status)))'), []);
    assert.deepEqual(
      verdict(`echo ${nest('$(echo ', '$(nc -l 4444)', ')', 20)}`).map((f) => f.code),
      ['shell.not-allowed'],
    );
  });

  it('checks nesting just under the documented depth instead of refusing it as too deep', () => {
    // The deepest shapes per level: `"$(` is four tree levels, `&&` and subshells one.
    const quoted = `echo ${nest('"$(echo ', 'ls', ')"', Math.floor((MAX_SHELL_DEPTH - 8) / 5))}`;
    const chain = Array.from({ length: MAX_SHELL_DEPTH - 8 }, () => 'ls').join(' && ');
    const deepDenied = `echo ${nest('$(echo ', '$(nc -l 4444)', ')', Math.floor((MAX_SHELL_DEPTH - 8) / 4))}`;
    assert.deepEqual(verdict(quoted), []);
    assert.deepEqual(verdict(chain), []);
    assert.deepEqual(
      verdict(deepDenied).map((f) => f.code),
      ['shell.not-allowed'],
    );
  });
});
