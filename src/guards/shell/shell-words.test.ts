import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeAnsiC, expandBraces } from './shell-words.js';

describe('shell word helpers', () => {
  it('decodes ANSI-C escapes as bash does', () => {
    assert.equal(decodeAnsiC('\\x72\\x6d'), 'rm');
    assert.equal(decodeAnsiC('\\162\\155'), 'rm');
    assert.equal(decodeAnsiC('\\u0072m'), 'rm');
    assert.equal(decodeAnsiC("a\\'b\\n"), "a'b\n");
    assert.equal(decodeAnsiC('\\cA'), '\x01');
  });

  it('expands braces into every word bash would make', () => {
    assert.deepEqual(expandBraces('src/{a,b}.ts'), ['src/a.ts', 'src/b.ts']);
    assert.deepEqual(expandBraces('{..,x}/..'), ['../..', 'x/..']);
    assert.deepEqual(expandBraces('a{b,{c,d}}e'), ['abe', 'ace', 'ade']);
    assert.deepEqual(expandBraces('f{1..3}'), ['f1', 'f2', 'f3']);
    assert.deepEqual(expandBraces('{c..a}'), ['c', 'b', 'a']);
    assert.deepEqual(expandBraces('{x}'), ['{x}'], 'a single item is literal');
  });

  it('refuses to enumerate more than 256 words', () => {
    assert.equal(expandBraces('{a..z}{a..z}{a..z}'), undefined);
  });
});
