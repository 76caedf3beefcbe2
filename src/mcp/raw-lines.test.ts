import assert from 'node:assert/strict';
import test from 'node:test';
import { withId } from './raw-lines.js';

test('the id is swapped where the SDK writes it (last) and where others do (first), the rest kept byte for byte', () => {
  assert.equal(
    withId('{"result": {"a" : 1},"jsonrpc":"2.0","id":"warden-7"}', 'warden-7', 3),
    '{"result": {"a" : 1},"jsonrpc":"2.0","id":3}',
  );
  assert.equal(
    withId('{"method":"tools/call","params":{},"jsonrpc":"2.0","id":3}', 3, 'warden-9'),
    '{"method":"tools/call","params":{},"jsonrpc":"2.0","id":"warden-9"}',
  );
  assert.equal(
    withId('{"jsonrpc":"2.0","id":"abc","result":{}}', 'abc', 'x'),
    '{"jsonrpc":"2.0","id":"x","result":{}}',
  );
  assert.equal(withId('{"id":5,"result":{}}', 5, 6), '{"id":6,"result":{}}');
});

test('an id that only looks like the member (inside a string, a longer number, a nested object) is left alone', () => {
  // The last member's key ends in `id` but is not `id`: its quote is escaped.
  assert.equal(withId('{"result":{},"x\\"id":"w-1"}', 'w-1', 2), undefined);
  // A number id that is a prefix of the one in the line.
  assert.equal(withId('{"id":55,"result":{}}', 5, 6), undefined);
  assert.equal(withId('{"result":{},"id":15}', 5, 6), undefined);
  // An `id` member of a nested object, not the message's own.
  assert.equal(withId('{"result":{"id":"w-1"},"jsonrpc":"2.0"}', 'w-1', 2), undefined);
  // Whitespace around the member: re-encoded by the caller rather than guessed at.
  assert.equal(withId('{"result":{}, "id": 4}', 4, 5), undefined);
});

test('every line withId changes still parses to the same message with the new id', () => {
  const lines: [string, string | number][] = [
    ['{"result":{"content":[{"type":"text","text":"\\"id\\":1}"}]},"jsonrpc":"2.0","id":1}', 1],
    ['{"jsonrpc":"2.0","id":"a\\"b","result":{}}', 'a"b'],
    ['{"method":"m","params":{"id":2},"jsonrpc":"2.0","id":2}', 2],
  ];
  for (const [line, from] of lines) {
    const swapped = withId(line, from, 'new');
    assert.ok(swapped !== undefined, line);
    assert.deepEqual(JSON.parse(swapped), { ...JSON.parse(line), id: 'new' });
  }
});
