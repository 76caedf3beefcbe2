import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { patternDetector } from './pattern-detector.js';
import { keysOfParam, keysOfText, normalIban } from './values.js';

test('a value found in a document gives the same key as the value in a parameter, however it is spelled', () => {
  const pairs: [string, string][] = [
    ['Pay to GB82 WEST 1234 5698 7654 32 today.', 'gb82-west-1234-5698-7654-32'],
    ['Mail Eve+promo@Evil.Example.', 'eve@evil.example'],
    ['See HTTPS://WWW.Evil.Example:443/a/./b/#top', 'https://evil.example/a/b'],
    ['Call +44 (0) 20 7946 0958.', '020 7946 0958'],
    ['Saved to /data/tmp/../out.txt', '/data/out.txt'],
    ['host: api.evil.example.', 'API.EVIL.EXAMPLE'],
  ];
  for (const [doc, param] of pairs) {
    const keys = keysOfText(doc);
    assert.ok(
      keysOfParam(param).some((k) => keys.has(k)),
      `${param} in ${doc}`,
    );
  }
});

test('benign neighbours do not match: another IBAN, another host, another path', () => {
  const keys = keysOfText('Pay GB82 WEST 1234 5698 7654 32 via https://pay.example.com/x, file /data/a.txt');
  for (const other of ['DE89370400440532013000', 'https://pay.example.org/x', '/data/b.txt', 'evil.com'])
    assert.ok(!keysOfParam(other).some((k) => keys.has(k)), other);
});

test('IBANs are checked (mod 97): a mistyped one is not an IBAN', () => {
  assert.equal(normalIban('GB82 WEST 1234 5698 7654 32'), 'GB82WEST12345698765432');
  assert.equal(normalIban('GB82 WEST 1234 5698 7654 33'), undefined);
});

test('value extraction and the detector take time linear in adversarial content (no regex backtracking blow-up)', () => {
  const inputs = [
    'a.'.repeat(100_000),
    'a'.repeat(200_000),
    '=/a'.repeat(60_000),
    `${'1 '.repeat(80_000)}x`,
    `ignore ${' '.repeat(100_000)}`,
  ];
  const detector = patternDetector();
  for (const input of inputs) {
    keysOfText(input);
    detector.detect(input);
  }
});

test('extraction never throws, whatever the text', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), (s) => {
      keysOfText(s);
      keysOfParam(s);
    }),
    { seed: 17, numRuns: 300 },
  );
});
