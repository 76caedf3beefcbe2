import assert from 'node:assert/strict';
import test from 'node:test';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';
import { Upstream } from './upstream.js';

/** An upstream answering `tools/call` with whatever `answer` returns for the request's id. */
function scriptedUpstream(answer: (id: unknown) => Record<string, unknown> | undefined): Upstream {
  return new Upstream({
    name: 'scripted',
    transport: () => {
      const [client, server] = InMemoryTransport.createLinkedPair();
      server.onmessage = (message) => {
        const m = message as { id?: string | number; method?: string };
        if (m.id === undefined) return;
        const reply = (body: Record<string, unknown> | undefined) =>
          body && void server.send({ jsonrpc: '2.0', id: m.id, ...body } as never);
        if (m.method === 'initialize')
          reply({
            result: {
              protocolVersion: LATEST_PROTOCOL_VERSION,
              capabilities: { tools: {} },
              serverInfo: { name: 'scripted', version: '1' },
            },
          });
        else if (m.method === 'tools/list')
          reply({ result: { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] } });
        else if (m.method === 'tools/call') reply(answer(m.id));
      };
      void server.start();
      return client;
    },
  });
}

test('an upstream answer with no result object fails the call with a clear error instead of hanging', async () => {
  const upstream = scriptedUpstream(() => ({ result: 5 }));
  await upstream.connect();
  try {
    await assert.rejects(
      upstream.callTool({ name: 'echo', arguments: {} }),
      /`scripted` answered with a malformed response/,
    );
  } finally {
    await upstream.close();
  }
});

test('an upstream error keeps its code and message; a malformed error is still an error', async () => {
  let n = 0;
  const upstream = scriptedUpstream(() =>
    n++ === 0 ? { error: { code: -32602, message: 'bad arguments' } } : { error: 'boom' },
  );
  await upstream.connect();
  try {
    await assert.rejects(
      upstream.callTool({ name: 'echo', arguments: {} }),
      (error: Error & { code?: number }) => {
        assert.equal(error.code, -32602);
        assert.match(error.message, /bad arguments/);
        return true;
      },
    );
    await assert.rejects(upstream.callTool({ name: 'echo', arguments: {} }), /boom/);
  } finally {
    await upstream.close();
  }
});

test('the result of a call comes back unchanged, extra fields included', async () => {
  const result = { content: [{ type: 'text', text: 'hi' }], vendorExtra: { kept: true } };
  const upstream = scriptedUpstream(() => ({ result }));
  await upstream.connect();
  try {
    assert.deepEqual(await upstream.callTool({ name: 'echo', arguments: {} }), result);
  } finally {
    await upstream.close();
  }
});

test('prepare() starts the handshake but fetches no tools: the listener set afterwards sees the first list', async () => {
  const methods: string[] = [];
  let handshakeDone: () => void = () => {};
  const handshake = new Promise<void>((resolve) => {
    handshakeDone = resolve;
  });
  const upstream = new Upstream({
    name: 'watched',
    transport: () => {
      const [client, server] = InMemoryTransport.createLinkedPair();
      server.onmessage = (message) => {
        const m = message as { id?: string | number; method?: string };
        if (m.method) methods.push(m.method);
        if (m.method === 'notifications/initialized') setImmediate(handshakeDone);
        if (m.id === undefined) return;
        const result =
          m.method === 'initialize'
            ? {
                protocolVersion: LATEST_PROTOCOL_VERSION,
                capabilities: { tools: {} },
                serverInfo: { name: 'watched', version: '1' },
              }
            : { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] };
        void server.send({ jsonrpc: '2.0', id: m.id, result } as never);
      };
      void server.start();
      return client;
    },
  });
  upstream.prepare();
  await handshake;
  assert.deepEqual(methods, ['initialize', 'notifications/initialized'], 'handshake only, no tools/list yet');
  const seen: string[][] = [];
  upstream.onTools = async (tools) => {
    seen.push(tools.map((t) => t.tool.name));
  };
  await upstream.connect();
  try {
    assert.deepEqual(seen, [['echo']], 'the tools reached the listener (the gateway pins them there)');
    assert.equal(
      methods.filter((m) => m === 'initialize').length,
      1,
      'connect() reused the prepared handshake',
    );
  } finally {
    await upstream.close();
  }
});

test('a server that fails to start after prepare() is reported by connect(), which can try again', async () => {
  let attempts = 0;
  const upstream = new Upstream({
    name: 'broken',
    transport: () => {
      attempts++;
      throw new Error('spawn ENOENT');
    },
  });
  upstream.prepare();
  await assert.rejects(upstream.connect(), /MCP server `broken` is unavailable: spawn ENOENT/);
  await assert.rejects(upstream.connect(), /unavailable/);
  assert.equal(attempts, 2);
});
