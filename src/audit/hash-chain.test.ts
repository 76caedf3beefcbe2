import assert from 'node:assert/strict';
import { test } from 'node:test';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { type ChainRow, encodePayload, GENESIS_HASH, linkHash, verifyChain } from './hash-chain.js';

type Row = [number, Buffer, Buffer];

function buildChain(datas: readonly Record<string, unknown>[]): Row[] {
  let prev = GENESIS_HASH;
  return datas.map((data, i) => {
    const payload = encodePayload({
      v: 1,
      seq: i + 1,
      ts: '2026-01-01T00:00:00.000Z',
      type: 'decision',
      data,
    });
    prev = linkHash(prev, payload);
    return [i + 1, prev, payload];
  });
}

function tamperField(row: Row): Row {
  const record = JSON.parse(row[2].toString('utf8'));
  record.type = 'forged';
  return [row[0], row[1], Buffer.from(JSON.stringify(record))];
}

const chainOf = (n: number) => buildChain(Array.from({ length: n }, (_, i) => ({ i })));

test('an untouched chain verifies and reports its head', () => {
  const rows = chainOf(5);
  const result = verifyChain(rows);
  assert.equal(result.problem, undefined);
  assert.equal(result.count, 5);
  assert.deepEqual(result.headHash, rows[4]?.[1]);
});

test('the first hash links to 32 zero bytes', () => {
  const [first] = chainOf(1);
  assert.deepEqual(first?.[1], linkHash(Buffer.alloc(32), first?.[2] as Buffer));
});

test('an edited field is a hash-mismatch at that record', () => {
  const rows = chainOf(5);
  rows[2] = tamperField(rows[2] as Row);
  assert.deepEqual(pick(verifyChain(rows)), { seq: 3, problem: 'hash-mismatch' });
});

test('a deleted first, middle or last-but-one row is a seq-gap naming it', () => {
  for (const index of [0, 2, 3]) {
    const rows = chainOf(5);
    rows.splice(index, 1);
    assert.deepEqual(pick(verifyChain(rows)), { seq: index + 1, problem: 'seq-gap' });
  }
});

test('two swapped rows are a broken link at the first of them', () => {
  const rows = chainOf(5);
  const [a, b] = [rows[1] as Row, rows[3] as Row];
  rows[1] = [2, b[1], b[2]];
  rows[3] = [4, a[1], a[2]];
  assert.deepEqual(pick(verifyChain(rows)), { seq: 2, problem: 'broken-link' });
});

test('a forged row appended with a bad link is caught', () => {
  const rows = chainOf(5);
  const copy = rows[1] as Row;
  rows.push([6, copy[1], copy[2]]);
  assert.deepEqual(pick(verifyChain(rows)), { seq: 6, problem: 'broken-link' });
});

test('an edit whose hash was recomputed is caught at the next record', () => {
  const rows = chainOf(5);
  const edited = tamperField(rows[1] as Row);
  rows[1] = [2, linkHash((rows[0] as Row)[1], edited[2]), edited[2]];
  assert.deepEqual(pick(verifyChain(rows)), { seq: 3, problem: 'hash-mismatch' });
});

test('any single mutation of a random chain is detected at the right record', () => {
  const data = fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });
  fc.assert(
    fc.property(
      fc.array(data, { minLength: 3, maxLength: 20 }),
      fc.constantFrom('field', 'hash', 'delete', 'swap', 'insert', 'recompute'),
      fc.nat(),
      fc.nat(),
      (datas, kind, x, y) => {
        const rows = buildChain(datas as Record<string, unknown>[]);
        const n = rows.length;
        // Tail-only changes (dropping or rewriting the newest record) need an external anchor.
        const i = x % (n - 1);
        let expected: number;
        if (kind === 'field') {
          rows[i] = tamperField(rows[i] as Row);
          expected = i + 1;
        } else if (kind === 'hash') {
          const r = rows[i] as Row;
          rows[i] = [r[0], Buffer.alloc(32, 7), r[2]];
          expected = i + 1;
        } else if (kind === 'delete') {
          rows.splice(i, 1);
          expected = i + 1;
        } else if (kind === 'swap') {
          const j = i + 1 + (y % (n - i - 1));
          const [a, b] = [rows[i] as Row, rows[j] as Row];
          rows[i] = [a[0], b[1], b[2]];
          rows[j] = [b[0], a[1], a[2]];
          expected = i + 1;
        } else if (kind === 'insert') {
          const forged = buildChain([{ forged: true }])[0] as Row;
          rows.splice(i, 0, [i + 1, forged[1], forged[2]]);
          for (let k = i + 1; k < rows.length; k++) (rows[k] as Row)[0] = k + 1;
          // A forged first record can be a valid genesis link; the displaced record then breaks.
          expected = i === 0 ? 2 : i + 1;
        } else {
          const edited = tamperField(rows[i] as Row);
          rows[i] = [i + 1, linkHash(i === 0 ? GENESIS_HASH : (rows[i - 1] as Row)[1], edited[2]), edited[2]];
          expected = i + 2;
        }
        const result = verifyChain(rows as ChainRow[]);
        assert.equal(result.problem?.seq, expected, `${kind} at ${i + 1}: ${JSON.stringify(result.problem)}`);
      },
    ),
    { numRuns: 300 },
  );
});

function pick(result: ReturnType<typeof verifyChain>) {
  return result.problem && { seq: result.problem.seq, problem: result.problem.problem };
}

test('a stored payload is exactly the canonical JSON of the whole record, whatever its fields', () => {
  const text = fc.string({ unit: 'binary', maxLength: 12 });
  fc.assert(
    fc.property(
      fc.record(
        {
          seq: fc.nat(),
          ts: text,
          type: text,
          agent: text,
          actionId: text,
          actor: text,
          data: fc.dictionary(text, fc.jsonValue({ maxDepth: 3 })),
        },
        { requiredKeys: ['seq', 'ts', 'type', 'data'] },
      ),
      (fields) => {
        const payload = { v: 1 as const, ...fields } as Parameters<typeof encodePayload>[0];
        // Independent oracle: the reference RFC 8785 implementation over the whole record.
        assert.equal(encodePayload(payload).toString('utf8'), canonicalize(payload));
      },
    ),
    { numRuns: 2000 },
  );
});
