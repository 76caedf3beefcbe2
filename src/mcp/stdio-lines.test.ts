import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import test from 'node:test';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { MAX_LINE_CHARS, StdioLinesClientTransport, StdioLinesServerTransport } from './stdio-lines.js';

/** A server transport on in-memory streams, recording what it delivers, reports and writes. */
async function harness(checkedByReceiver?: (m: Record<string, unknown>) => boolean) {
  const stdin = new PassThrough();
  const writes: string[][] = [];
  const stdout = new Writable({
    writev(chunks, done) {
      writes.push(chunks.map((c) => String(c.chunk)));
      done();
    },
    write(chunk, _encoding, done) {
      writes.push([String(chunk)]);
      done();
    },
  });
  const transport = new StdioLinesServerTransport({
    stdin,
    stdout,
    ...(checkedByReceiver ? { checkedByReceiver } : {}),
  });
  const messages: JSONRPCMessage[] = [];
  const errors: Error[] = [];
  let closed = false;
  transport.onmessage = (m) => messages.push(m);
  transport.onerror = (e) => errors.push(e);
  transport.onclose = () => {
    closed = true;
  };
  await transport.start();
  const feed = async (...chunks: string[]) => {
    for (const chunk of chunks) stdin.write(chunk);
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { transport, messages, errors, writes, feed, isClosed: () => closed };
}

const ping = (id: number) => ({ jsonrpc: '2.0' as const, id, method: 'ping' });

test('messages split across chunks, several per chunk and with CRLF endings arrive whole and in order', async () => {
  const h = await harness();
  const [a, b, c] = [ping(1), ping(2), ping(3)].map((m) => JSON.stringify(m));
  await h.feed(`${a}\n${(b as string).slice(0, 7)}`, `${(b as string).slice(7)}\r\n\n${c}`, '\n');
  assert.deepEqual(h.messages, [ping(1), ping(2), ping(3)]);
  assert.deepEqual(h.errors, []);
});

test('a line that is not JSON, or not JSON-RPC, is reported and dropped; later lines still arrive', async () => {
  const h = await harness();
  await h.feed(
    '{not json\n',
    '{"jsonrpc":"2.0","id":{"x":1},"method":"ping"}\n',
    `${JSON.stringify(ping(4))}\n`,
  );
  assert.deepEqual(h.messages, [ping(4)]);
  assert.equal(h.errors.length, 2);
  assert.equal(h.isClosed(), false);
});

test('only messages the receiver checks itself skip the JSON-RPC schema', async () => {
  const own = (m: Record<string, unknown>) => m.method === 'tools/call';
  const h = await harness(own);
  // `params` must be an object for the schema; the receiver answers such a call with -32602 itself.
  await h.feed(
    '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":"oops"}\n',
    '{"jsonrpc":"2.0","id":2,"method":"tools/list","params":"oops"}\n',
    '{"jsonrpc":"1.0","id":3,"method":"tools/call","params":{"name":"x"}}\n',
  );
  assert.deepEqual(h.messages, [{ jsonrpc: '2.0', id: 1, method: 'tools/call', params: 'oops' }]);
  assert.equal(h.errors.length, 2, 'tools/list with bad params and a non-2.0 envelope are refused');
});

test('messages sent in one tick leave in one write, each on its own line', async () => {
  const h = await harness();
  await Promise.all([1, 2, 3].map((id) => h.transport.send({ jsonrpc: '2.0', id, result: {} })));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(h.writes.length, 1);
  assert.deepEqual((h.writes[0] as string[]).join('').split('\n'), [
    '{"jsonrpc":"2.0","id":1,"result":{}}',
    '{"jsonrpc":"2.0","id":2,"result":{}}',
    '{"jsonrpc":"2.0","id":3,"result":{}}',
    '',
  ]);
  await h.transport.send({ jsonrpc: '2.0', id: 4, result: {} });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(h.writes.length, 2, 'a later tick writes again');
});

test('a line longer than the limit closes the connection instead of buffering without end', async () => {
  const h = await harness();
  await h.feed('{"jsonrpc":"2.0","method":"x","params":{"pad":"', 'a'.repeat(MAX_LINE_CHARS));
  assert.equal(h.isClosed(), true);
  assert.match(String(h.errors[0]), /longer than/);
  await assert.rejects(h.transport.send(ping(1)), /Not connected/);
});

test('the client transport talks to a child process and ends it on close, with SIGTERM if it ignores its stdin closing', async () => {
  // Answers each request with its id, and does not exit when its stdin ends.
  const server = `
    process.stdin.setEncoding('utf8'); let b = '';
    process.stdin.on('data', (c) => { b += c; let i; while ((i = b.indexOf('\\n')) >= 0) {
      const m = JSON.parse(b.slice(0, i)); b = b.slice(i + 1);
      process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { echoed: m.params } }) + '\\n'); } });
    process.stdin.on('end', () => setInterval(() => {}, 1000));`;
  const transport = new StdioLinesClientTransport({
    command: process.execPath,
    args: ['-e', server],
    stderr: 'inherit',
  });
  const got: JSONRPCMessage[] = [];
  let closed = false;
  transport.onmessage = (m) => got.push(m);
  transport.onclose = () => {
    closed = true;
  };
  await transport.start();
  const pid = transport.pid as number;
  await transport.send({ jsonrpc: '2.0', id: 7, method: 'ping', params: { n: 1 } });
  while (got.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(got, [{ jsonrpc: '2.0', id: 7, result: { echoed: { n: 1 } } }]);
  const started = Date.now();
  await transport.close();
  assert.ok(Date.now() - started >= 1900, 'waited for the server to exit by itself first');
  assert.throws(() => process.kill(pid, 0), /ESRCH/, 'the server process is gone');
  assert.equal(closed, true);
});

test('the client transport reports a command that cannot be started', async () => {
  const transport = new StdioLinesClientTransport({ command: '/nonexistent/mcp-server' });
  transport.onerror = () => undefined;
  await assert.rejects(transport.start(), /ENOENT/);
});
