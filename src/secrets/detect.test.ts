import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { newActionId } from '../validate/validate.js';
import { SecretScanner } from './detect.js';
import { SecretlintRules } from './secretlint-rules.js';

const AWS_SECRET = 'aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCY0123456789';

describe('secret scanner', () => {
  test('a text is found to hold its secret however often it is scanned', () => {
    const scanner = new SecretScanner();
    for (let i = 0; i < 3; i++) assert.equal(scanner.scan(AWS_SECRET)[0]?.rule, 'aws');
  });

  test('a clean text scanned before does not hide a secret in a different text', () => {
    const scanner = new SecretScanner();
    assert.deepEqual(scanner.scan('config path /data/research/1.txt'), []);
    assert.deepEqual(scanner.scan('config path /data/research/1.txt'), []);
    assert.equal(scanner.scan(`config path /data/research/1.txt ${AWS_SECRET}`).length, 1);
  });

  test('a long text with a secret scanned again gives the same hits, and changing them changes no later scan', () => {
    const scanner = new SecretScanner();
    const file = `${'lorem ipsum '.repeat(200)}\n${AWS_SECRET}\n${'dolor sit '.repeat(200)}`;
    const first = scanner.scan(file);
    assert.equal(first[0]?.rule, 'aws');
    first.length = 0;
    const again = scanner.scan(file);
    assert.equal(again.length, 1);
    assert.deepEqual(again, scanner.scan(file));
    assert.throws(() => {
      (scanner.find(file)[0] as { start: number }).start = 0;
    }, TypeError);
    for (let i = 0; i < 20; i++) scanner.scan(`${file} ${i}`);
    assert.equal(scanner.scan(file)[0]?.rule, 'aws', 'found again once the memory moved on');
  });

  test('texts remembered as clean stay clean after the memory starts over', () => {
    const scanner = new SecretScanner();
    // 4,100 texts of 1,000 characters: past the memory's 4,000,000 characters, so it starts over.
    const long = (i: number) => `/data/research/${i}/${'x'.repeat(980)}`;
    for (let i = 0; i < 4100; i++) assert.deepEqual(scanner.scan(long(i)), []);
    assert.deepEqual(scanner.scan(long(0)), []);
    assert.equal(scanner.scan(AWS_SECRET).length, 1);
  });

  test("no maintained rule takes Warden's own action ids for a secret (the scanner skips them)", () => {
    const rules = new SecretlintRules();
    const ids = Array.from({ length: 2000 }, () => newActionId());
    ids.push(`act_${'0'.repeat(32)}`, `act_${'f'.repeat(32)}`, `act_${'da'.repeat(16)}`);
    for (const id of ids) assert.deepEqual(rules.scan(id), [], id);
  });

  test("a secret of an action id's length and alphabet is still found", () => {
    const key = `dapi${'0123456789abcdef'.repeat(2)}`;
    assert.equal(key.length, 36);
    assert.equal(new SecretScanner().scan(key)[0]?.rule, 'databricks');
  });
});
