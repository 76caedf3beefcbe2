// The raw fast path of `tools/call` (stdio on both sides): the client's request goes upstream as
// its own bytes with an id of the gateway's, and an answer the policy lets through unchanged
// comes back as the upstream's bytes. Driven with raw JSON-RPC lines, so the bytes are visible.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, test } from 'node:test';
import { serveToolCallsDirectly } from '../../src/mcp/direct-calls.js';
import { McpGateway } from '../../src/mcp/gateway.js';
import { ToolPins } from '../../src/mcp/pins.js';
import { StdioLinesServerTransport } from '../../src/mcp/stdio-lines.js';
import { Upstream } from '../../src/mcp/upstream.js';
import { createWarden, type Warden } from '../../src/pipeline/warden.js';
import { policyFromObject } from '../../src/policy/load.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { ROOT, tempDir } from '../helpers/cli.js';

const RAW_SERVER = join(ROOT, 'test/fixtures/mcp-raw-server.mjs');
const TOKEN = 'ghp_Zq81kXp02LmnT7vB3wYyA9cD4eF6gH1jK2mN';
const tmp = tempDir('warden-mcp-fast-');
const log = join(tmp.dir, 'upstream.log');
let warden: Warden;
let gateway: McpGateway;

/** One downstream client of the gateway, speaking raw lines over a pipe pair, as `warden mcp`'s stdio. */
class RawClient {
  readonly #stdin = new PassThrough();
  readonly #stdout = new PassThrough();
  readonly #waiting = new Map<string, (line: string) => void>();
  readonly lines: string[] = [];

  static async open(): Promise<RawClient> {
    const client = new RawClient();
    await client.#serve();
    return client;
  }

  async #serve(): Promise<void> {
    const server = gateway.serverFor('bot', { session: 'fast-path' });
    const transport = new StdioLinesServerTransport({
      stdin: this.#stdin,
      stdout: this.#stdout,
      checkedByReceiver: (m) => m.method === 'tools/call',
    });
    await server.connect(transport);
    serveToolCallsDirectly(transport, (params, extra) =>
      gateway.serveCall(server, 'bot', params, extra, { session: 'fast-path' }),
    );
    let buffered = '';
    this.#stdout.setEncoding('utf8');
    this.#stdout.on('data', (chunk: string) => {
      buffered += chunk;
      for (let i = buffered.indexOf('\n'); i >= 0; i = buffered.indexOf('\n')) {
        const line = buffered.slice(0, i);
        buffered = buffered.slice(i + 1);
        this.lines.push(line);
        const id = JSON.stringify((JSON.parse(line) as { id?: unknown }).id);
        this.#waiting.get(id)?.(line);
        this.#waiting.delete(id);
      }
    });
    await this.request(0, 'initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'raw', version: '1' },
    });
    this.write('{"jsonrpc":"2.0","method":"notifications/initialized"}');
  }

  write(line: string): void {
    this.#stdin.write(`${line}\n`);
  }

  /** Sends a request (the SDK's member order: the id last) and resolves with the answer's line. */
  request(id: number | string, method: string, params: unknown): Promise<string> {
    const answered = new Promise<string>((resolve) => this.#waiting.set(JSON.stringify(id), resolve));
    this.write(
      `{"method":"${method}","params":${JSON.stringify(params)},"jsonrpc":"2.0","id":${JSON.stringify(id)}}`,
    );
    return answered;
  }

  call(id: number | string, name: string, args: Record<string, unknown> = {}): Promise<string> {
    return this.request(id, 'tools/call', { name, arguments: args });
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the fixture's lines, read field by field in asserts.
type Json = any;

/** Every line the upstream server received, parsed. */
const upstreamSaw = () =>
  readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => ({ line, message: JSON.parse(line) as Record<string, Json> }));

before(async () => {
  writeFileSync(log, '');
  warden = await createWarden({
    policy: policyFromObject({
      agents: {
        bot: { allow: ['mcp.raw.echo', 'mcp.raw.leak', 'mcp.raw.wait', 'mcp.raw.chatty'] },
      },
    }),
    store: new MemoryStore(),
  });
  const upstream = new Upstream({
    name: 'raw',
    command: process.execPath,
    args: [RAW_SERVER],
    env: { RAW_LOG: log },
  });
  gateway = new McpGateway({
    warden,
    upstreams: [upstream],
    pins: new ToolPins(warden.store, warden.audit, 'trust-on-first-use'),
    namespaced: false,
  });
  await gateway.start();
});

after(async () => {
  await gateway.close();
  await warden.close();
  tmp.remove();
});

test('a clean answer comes back as the upstream sent it, byte for byte, with the client id spliced in', async () => {
  const client = await RawClient.open();
  const line = await client.call(41, 'echo', { message: 'hi' });
  assert.equal(
    line,
    '{"jsonrpc":"2.0", "result": { "content" : [ {"type":"text", "text": "echo: hi"} ] },"id":41}',
  );
  // The request went upstream as the client's bytes, under an id of the gateway's.
  const sent = upstreamSaw().find((s) => s.message.params?.arguments?.message === 'hi');
  assert.ok(sent, 'the call reached the upstream');
  assert.match(sent.message.id, /^warden-/);
  assert.equal(
    sent.line,
    `{"method":"tools/call","params":{"name":"echo","arguments":{"message":"hi"}},"jsonrpc":"2.0","id":"${sent.message.id}"}`,
  );
});

test('an answer holding a secret is redacted, so it is encoded anew', async () => {
  const client = await RawClient.open();
  const line = await client.call(7, 'leak');
  assert.doesNotMatch(line, new RegExp(TOKEN));
  const answer = JSON.parse(line) as { id: number; result: { content: { text: string }[] } };
  assert.equal(answer.id, 7);
  assert.match(answer.result.content[0]?.text ?? '', /^the key is \[REDACTED:github:[0-9a-f]{12}\]$/);
  assert.equal(line, JSON.stringify(answer), 're-encoded, not the upstream spacing');
});

test('two clients using the same ids at once each get their own answers', async () => {
  const [a, b] = await Promise.all([RawClient.open(), RawClient.open()]);
  const ids = [1, 2, 3, 4, 5, 6, 7, 8];
  const answers = await Promise.all(
    ids.flatMap((id) => [
      a.call(id, 'echo', { message: `a${id}` }).then((line) => ({ who: 'a', id, line })),
      b.call(id, 'echo', { message: `b${id}` }).then((line) => ({ who: 'b', id, line })),
    ]),
  );
  for (const { who, id, line } of answers) {
    const answer = JSON.parse(line) as { id: number; result: { content: { text: string }[] } };
    assert.equal(answer.id, id);
    assert.equal(answer.result.content[0]?.text, `echo: ${who}${id}`);
  }
  assert.equal(a.lines.length, b.lines.length, 'no answer went to the other client');
  const upstreamIds = upstreamSaw()
    .filter((s) => /^[ab][1-8]$/.test(s.message.params?.arguments?.message ?? ''))
    .map((s) => s.message.id);
  assert.equal(new Set(upstreamIds).size, 16, 'every call had an upstream id of its own');
});

test('a call the policy refuses never reaches the upstream', async () => {
  const client = await RawClient.open();
  const line = await client.call(3, 'forbidden', { note: 'never-sent' });
  const answer = JSON.parse(line) as { result: { isError: boolean; _meta: Record<string, Json> } };
  assert.equal(answer.result.isError, true);
  assert.ok(answer.result._meta['warden/reason'].code, 'a reason code the model can read');
  assert.equal(upstreamSaw().filter((s) => s.message.params?.arguments?.note === 'never-sent').length, 0);
});

test('requests and notifications the upstream sends during a fast-path call still reach the gateway', async () => {
  const client = await RawClient.open();
  // `chatty` answers only once the gateway's SDK client has answered its ping and, told the
  // tools changed, listed them again.
  const line = await client.call(9, 'chatty');
  assert.equal(JSON.parse(line).result.content[0].text, 'heard back');
  const pong = upstreamSaw().find(
    (s) => typeof s.message.id === 'string' && s.message.id.startsWith('ping-'),
  );
  assert.deepEqual(pong?.message.result, {});
});

test('a fast-path call the client cancels is cancelled upstream and never answered', async () => {
  const client = await RawClient.open();
  void client.call(11, 'wait');
  const forwarded = async () => {
    for (;;) {
      const sent = upstreamSaw().find((s) => s.message.params?.name === 'wait');
      if (sent) return sent.message.id as string;
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const upstreamId = await forwarded();
  client.write(
    '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":11,"reason":"user stopped it"}}',
  );
  // Answered in order after the cancellation: the next call's answer follows it.
  await client.call(12, 'echo', { message: 'after' });
  const cancelled = upstreamSaw().find((s) => s.message.method === 'notifications/cancelled');
  assert.equal(cancelled?.message.params.requestId, upstreamId);
  assert.equal(
    client.lines.filter((l) => JSON.parse(l).id === 11).length,
    0,
    'a cancelled request gets no answer',
  );
  const records = await warden.store.audit.query({ type: 'result', limit: 1000 });
  assert.ok(
    records.some((r) => (r.data as { status?: string }).status === 'aborted'),
    'the aborted call has its result on record',
  );
});

test('calls arriving together share one decision commit, and none goes upstream before it is durable', async () => {
  const store = new MemoryStore();
  const batches: string[][] = [];
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const append = store.audit.append.bind(store.audit);
  store.audit.append = async (entries) => {
    batches.push(entries.map((e) => e.type));
    // Decisions of tool calls wait here until the test has looked at the upstream.
    if (entries.some((e) => e.type === 'decision')) await gate;
    return append(entries);
  };
  const own = await createWarden({
    policy: policyFromObject({ agents: { bot: { allow: ['mcp.raw.echo'] } } }),
    store,
  });
  const upstream = new Upstream({
    name: 'raw',
    command: process.execPath,
    args: [RAW_SERVER],
    env: { RAW_LOG: log },
  });
  const grouped = new McpGateway({
    warden: own,
    upstreams: [upstream],
    pins: new ToolPins(own.store, own.audit, 'trust-on-first-use'),
    namespaced: false,
  });
  try {
    await grouped.start();
    const server = grouped.serverFor('bot');
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const transport = new StdioLinesServerTransport({
      stdin,
      stdout,
      checkedByReceiver: (m) => m.method === 'tools/call',
    });
    await server.connect(transport);
    serveToolCallsDirectly(transport, (params, extra) => grouped.serveCall(server, 'bot', params, extra));
    const answered = new Promise<void>((resolve) => {
      let n = 0;
      stdout.on('data', (chunk: Buffer) => {
        n += chunk.toString().split('\n').filter(Boolean).length;
        if (n === 8) resolve();
      });
    });
    const calls = Array.from(
      { length: 8 },
      (_, i) =>
        `{"method":"tools/call","params":{"name":"echo","arguments":{"message":"together-${i}"}},"jsonrpc":"2.0","id":${i + 1}}\n`,
    );
    stdin.write(calls.join(''));
    while (!batches.some((b) => b.includes('decision')))
      await new Promise((resolve) => setImmediate(resolve));
    // The upstream answers in order: once it has answered this listing, it has read every line before it.
    await grouped.listTools('bot');
    assert.equal(
      upstreamSaw().filter((s) => /^together-/.test(s.message.params?.arguments?.message ?? '')).length,
      0,
    );
    release();
    await answered;
    const decisions = batches.filter((b) => b.includes('decision'));
    assert.deepEqual(decisions[0], Array(8).fill('decision'), 'the eight decisions in one commit');
    assert.equal(
      upstreamSaw().filter((s) => /^together-/.test(s.message.params?.arguments?.message ?? '')).length,
      8,
    );
  } finally {
    release();
    await grouped.close();
    await own.close();
  }
});
