import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Warden } from '../pipeline/warden.js';
import { testWarden } from '../testing/index.js';
import { createApp } from './app.js';
import { type RunningServer, startServer } from './serve.js';
import { TokenRegistry } from './tokens.js';

let warden: Warden;
let app: ReturnType<typeof createApp>;
const T = { admin: 'admin-token-0123456789', reader: 'reader-agent-0123456789' };

before(async () => {
  warden = await testWarden({
    agents: { reader: { allow: ['fs.read'], resources: { paths: ['/data/**'] } } },
  });
  const tokens = new TokenRegistry([]);
  tokens.register(T.admin, { name: 'root', role: 'admin' });
  tokens.register(T.reader, { name: 'reader-bot', role: 'agent', agent: 'reader' });
  app = createApp(warden, tokens);
});
after(() => warden.close());

function call(method: string, path: string, token: string, body?: string | Uint8Array) {
  return app.request(path, {
    method,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    ...(body === undefined ? {} : { body }),
  });
}

async function expectInvalid(r: Response, mentions: string): Promise<string> {
  const text = await r.text();
  assert.equal(r.status, 400, text);
  const body = JSON.parse(text) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'validate.invalid');
  assert.match(body.error.message, new RegExp(mentions));
  return body.error.message;
}

describe('query parameters are checked, never a 500', () => {
  test('`GET /v1/audit?limit=-1` and `limit=0.5` are 400 naming `limit` and what was given', async () => {
    for (const bad of ['-1', '0.5', 'abc', '1e9', '']) {
      const message = await expectInvalid(await call('GET', `/v1/audit?limit=${bad}`, T.admin), '`limit`');
      assert.match(message, /expected/);
    }
    assert.equal((await call('GET', '/v1/audit?limit=5', T.admin)).status, 200);
  });

  test('every numeric or enumerated query parameter of every route refuses nonsense with 400', async () => {
    const cases: Array<[string, string]> = [
      ['/v1/audit?after=-3', '`after`'],
      ['/v1/audit?before=x', '`before`'],
      ['/v1/audit?order=sideways', '`order`'],
      ['/v1/audit/search?limit=-1', '`limit`'],
      ['/v1/approvals?limit=0.5', '`limit`'],
      ['/v1/alerts?limit=-1', '`limit`'],
      ['/v1/actions/act_x?wait=-1', '`wait`'],
      ['/v1/audit?agent=%00', '`agent`'],
    ];
    for (const [path, name] of cases) await expectInvalid(await call('GET', path, T.admin), name);
  });
});

describe('path parameters are checked', () => {
  test('a kill for an agent name with a NUL or 10,000 characters is refused and stores no stop', async () => {
    for (const name of [`%00${'a'.repeat(10_000)}`, '%00', 'a'.repeat(201), 'a%0Ab']) {
      await expectInvalid(await call('POST', `/v1/agents/${name}/kill`, T.admin, '{}'), 'agent');
    }
    assert.deepEqual(warden.kills.list(), []);
  });

  test('an action or approval id that is too long or holds control characters is 400', async () => {
    await expectInvalid(await call('GET', `/v1/actions/${'x'.repeat(300)}`, T.admin), 'id');
    await expectInvalid(await call('GET', '/v1/approvals/a%01b', T.admin), 'id');
    await expectInvalid(await call('POST', '/v1/approvals/a%01b/approve', T.admin, '{}'), 'id');
  });
});

describe('bodies that are not faithful text are refused', () => {
  test('a body with invalid UTF-8 is 400 `validate.invalid`, not decoded to U+FFFD and allowed', async () => {
    const head = Buffer.from('{"agent":"reader","type":"fs.read","params":{"path":"/data/a');
    const body = Buffer.concat([head, Buffer.from([0xff, 0xfe]), Buffer.from('.txt"}}')]);
    const r = await call('POST', '/v1/actions', T.reader, new Uint8Array(body));
    await expectInvalid(r, 'UTF-8');
  });

  test('an action whose params hold a lone surrogate is denied with a reason', async () => {
    const body = '{"agent":"reader","type":"fs.read","params":{"path":"/data/\\ud800.txt"}}';
    const r = await call('POST', '/v1/check', T.reader, body);
    assert.equal(r.status, 200);
    const d = (await r.json()) as { effect: string; reasons: Array<{ code: string; message: string }> };
    assert.equal(d.effect, 'deny');
    assert.equal(d.reasons[0]?.code, 'validate.invalid');
    assert.match(d.reasons[0]?.message ?? '', /surrogate/);
  });
});

describe('every decision reaches the audit', () => {
  test('params nested deeper than 512 or holding 1e309 are denied and their decision is audited', async () => {
    const deep = `${'{"a":'.repeat(600)}1${'}'.repeat(600)}`;
    const bodies = [
      `{"agent":"reader","type":"fs.read","params":{"path":"/data/a","x":${deep}}}`,
      '{"agent":"reader","type":"fs.read","params":{"path":"/data/a","n":1e309}}',
      `{"agent":"reader","type":"fs.read","id":"deep-1","params":${deep}}`,
    ];
    for (const body of bodies) {
      const r = await call('POST', '/v1/actions', T.reader, body);
      const text = await r.text();
      assert.ok(r.status < 500, text);
      const d = JSON.parse(text) as { id: string; decision?: { effect: string }; effect?: string };
      const records = (await (
        await call('GET', `/v1/audit?actionId=${encodeURIComponent(d.id)}`, T.admin)
      ).json()) as { records: Array<{ type: string; data: { decision: { effect: string } } }> };
      const decision = records.records.find((x) => x.type === 'decision');
      assert.ok(decision, `no decision record for ${body.slice(0, 60)}…`);
      assert.equal(decision.data.decision.effect, 'deny');
    }
    const verify = (await (await call('GET', '/v1/audit/verify', T.admin)).json()) as { ok: boolean };
    assert.equal(verify.ok, true);
  });
});

describe('slow clients', () => {
  let server: RunningServer;
  before(async () => {
    const tokens = new TokenRegistry([]);
    tokens.register(T.admin, { name: 'root', role: 'admin' });
    server = await startServer(warden, tokens, {
      port: 0,
      headersTimeoutMs: 300,
      requestTimeoutMs: 600,
      maxConnections: 3,
    });
  });
  after(() => server.close());

  test('a client whose headers never finish is disconnected within the headers timeout', async () => {
    const { hostname, port } = new URL(server.url);
    const started = Date.now();
    const closed = await new Promise<number>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () =>
        socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'),
      );
      socket.on('data', () => {});
      socket.on('error', () => {});
      socket.on('close', () => resolve(Date.now() - started));
      setTimeout(() => {
        socket.destroy();
        reject(new Error('still connected after 5 s'));
      }, 5000).unref();
    });
    assert.ok(closed < 3000, `closed after ${closed} ms`);
  });

  test('an event stream outlives the request timeout: it bounds receiving the request only', async () => {
    const controller = new AbortController();
    const r = await fetch(`${server.url}/v1/events`, {
      headers: { authorization: `Bearer ${T.admin}` },
      signal: controller.signal,
    });
    assert.equal(r.status, 200);
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    assert.match(new TextDecoder().decode((await reader.read()).value), /event: hello/);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await call('POST', '/v1/agents/reader/kill', T.admin, '{}');
    await call('POST', '/v1/agents/reader/revive', T.admin, '{}');
    let seen = '';
    while (!seen.includes('event: audit')) seen += new TextDecoder().decode((await reader.read()).value);
    controller.abort();
  });

  test('connections over the cap are refused while the others are served', async () => {
    const { hostname, port } = new URL(server.url);
    const open = (): Promise<{ socket: import('node:net').Socket; closed: Promise<void> }> =>
      new Promise((resolve) => {
        const socket = connect(Number(port), hostname, () => {
          const closed = new Promise<void>((done) => socket.on('close', () => done()));
          resolve({ socket, closed });
        });
        socket.on('error', () => {});
      });
    const held = [await open(), await open(), await open()];
    for (const h of held) h.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'); // headers unfinished
    const extra = await open();
    const refused = await Promise.race([
      extra.closed.then(() => true),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 250)),
    ]);
    assert.equal(refused, true, 'a fourth connection was kept open over a cap of 3');
    for (const h of held) h.socket.destroy();
    await Promise.all(held.map((h) => h.closed));
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });
});
