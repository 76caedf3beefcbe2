import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Warden } from '../pipeline/warden.js';
import { testWarden } from '../testing/index.js';
import { createApp } from './app.js';
import { TokenRegistry } from './tokens.js';

let warden: Warden;
let app: ReturnType<typeof createApp>;
const T = {
  admin: 'admin-token-0123456789',
  alice: 'alice-approver-0123456789',
  carol: 'carol-approver-0123456789',
  viewer: 'viewer-token-0123456789',
  payer: 'payer-agent-0123456789',
  reader: 'reader-agent-0123456789',
};

before(async () => {
  warden = await testWarden({
    agents: {
      payer: { allow: ['payment.*'] },
      reader: { allow: ['fs.read'], resources: { paths: ['/data/**'] } },
    },
  });
  const tokens = new TokenRegistry([]);
  tokens.register(T.admin, { name: 'root', role: 'admin' });
  tokens.register(T.alice, { name: 'alice', role: 'approver' });
  tokens.register(T.carol, { name: 'carol', role: 'approver' });
  tokens.register(T.viewer, { name: 'vic', role: 'viewer' });
  tokens.register(T.payer, { name: 'payer-bot', role: 'agent', agent: 'payer' });
  tokens.register(T.reader, { name: 'reader-bot', role: 'agent', agent: 'reader' });
  app = createApp(warden, tokens);
});
after(() => warden.close());

function call(method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  return app.request(path, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}
const read = { agent: 'reader', type: 'fs.read', params: { path: '/data/a.txt' } };

describe('control plane authentication and roles', () => {
  test('requests without a token, or with an unknown one, get 401', async () => {
    for (const token of [undefined, 'not-a-real-token']) {
      const r = await call('POST', '/v1/check', token, read);
      assert.equal(r.status, 401);
      const body = (await r.json()) as { error: { code: string } };
      assert.equal(body.error.code, 'auth.missing-token');
    }
    assert.equal((await call('GET', '/v1/audit')).status, 401);
  });

  test('roles that may not act get 403', async () => {
    const cases: Array<[string, string, string, unknown?]> = [
      ['POST', '/v1/actions', T.viewer, read],
      ['POST', '/v1/agents/reader/kill', T.reader, { reason: 'x' }],
      ['POST', '/v1/agents/reader/kill', T.alice, { reason: 'x' }],
      ['POST', '/v1/kill-all', T.viewer, { reason: 'x' }],
      ['GET', '/v1/audit', T.reader],
      ['POST', '/v1/approvals/apr_x/approve', T.payer, {}],
      ['POST', '/v1/approvals/apr_x/approve', T.viewer, {}],
    ];
    for (const [method, path, token, body] of cases) {
      const r = await call(method, path, token, body);
      assert.equal(r.status, 403, `${method} ${path}`);
    }
  });

  test('an agent token cannot act for another agent', async () => {
    const r = await call('POST', '/v1/actions', T.reader, { ...read, agent: 'payer' });
    assert.equal(r.status, 403);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'auth.wrong-agent');
  });

  test('healthz needs no token', async () => {
    assert.equal((await call('GET', '/healthz')).status, 200);
  });

  test('a body over 1 MiB is refused with 413 before it is parsed', async () => {
    const big = JSON.stringify({ ...read, params: { path: '/data/a', pad: 'x'.repeat(1024 * 1024) } });
    const r = await app.request('/v1/check', {
      method: 'POST',
      headers: { authorization: `Bearer ${T.reader}`, 'content-length': String(big.length) },
      body: big,
    });
    assert.equal(r.status, 413);
    assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'http.body-too-large');
  });

  test('bad JSON is a 400 that says so', async () => {
    const r = await app.request('/v1/check', {
      method: 'POST',
      headers: { authorization: `Bearer ${T.reader}` },
      body: '{nope',
    });
    assert.equal(r.status, 400);
    assert.match(((await r.json()) as { error: { message: string } }).error.message, /not JSON/);
  });
});

describe('agents that execute themselves', () => {
  test('check decides without recording; actions records; the result is accepted once', async () => {
    const before = await warden.store.audit.count();
    const checked = (await (await call('POST', '/v1/check', T.reader, read)).json()) as { effect: string };
    assert.equal(checked.effect, 'allow');
    assert.equal(await warden.store.audit.count(), before);

    const submitted = await call('POST', '/v1/actions', T.reader, read);
    assert.equal(submitted.status, 200);
    const view = (await submitted.json()) as { id: string; status: string };
    assert.equal(view.status, 'allowed');
    const done = await call('POST', `/v1/actions/${view.id}/result`, T.reader, {
      status: 'completed',
      output: { bytes: 5 },
    });
    assert.equal(done.status, 200);
    const again = await call('POST', `/v1/actions/${view.id}/result`, T.reader, { status: 'completed' });
    assert.equal(again.status, 409);
    const records = (await (await call('GET', `/v1/audit?actionId=${view.id}`, T.viewer)).json()) as {
      records: Array<{ type: string }>;
    };
    assert.deepEqual(
      records.records.map((r) => r.type),
      ['decision', 'result'],
    );
  });

  test('a payment waits for two distinct approvers; the agent cannot approve; then it is allowed', async () => {
    const pay = { agent: 'payer', type: 'payment.send', params: { amount: 50, currency: 'EUR', to: 'acme' } };
    const submitted = await call('POST', '/v1/actions', T.payer, pay);
    assert.equal(submitted.status, 202);
    const view = (await submitted.json()) as { id: string; status: string; approvalId: string };
    assert.equal(view.status, 'pending');
    assert.equal(
      (await call('POST', `/v1/actions/${view.id}/result`, T.payer, { status: 'completed' })).status,
      409,
    );

    assert.equal((await call('POST', `/v1/approvals/${view.approvalId}/approve`, T.alice, {})).status, 200);
    assert.equal(
      (await call('POST', `/v1/approvals/${view.approvalId}/approve`, T.alice, {})).status,
      409,
      'same approver twice',
    );
    let status = (await (await call('GET', `/v1/actions/${view.id}`, T.payer)).json()) as { status: string };
    assert.equal(status.status, 'pending');

    assert.equal((await call('POST', `/v1/approvals/${view.approvalId}/approve`, T.carol, {})).status, 200);
    status = (await (await call('GET', `/v1/actions/${view.id}?wait=2`, T.payer)).json()) as {
      status: string;
    };
    assert.equal(status.status, 'allowed');
    assert.equal(
      (await call('POST', `/v1/actions/${view.id}/result`, T.payer, { status: 'completed' })).status,
      200,
    );
  });

  test('kill via the API denies the agent; revive restores it', async () => {
    assert.equal(
      (await call('POST', '/v1/agents/reader/kill', T.admin, { reason: 'investigating' })).status,
      200,
    );
    const denied = (await (await call('POST', '/v1/check', T.reader, read)).json()) as {
      effect: string;
      reasons: Array<{ code: string }>;
    };
    assert.deepEqual([denied.effect, denied.reasons[0]?.code], ['deny', 'killswitch.agent-killed']);
    const agents = (await (await call('GET', '/v1/agents', T.viewer)).json()) as {
      agents: Array<{ name: string; state: string }>;
    };
    assert.equal(agents.agents.find((a) => a.name === 'reader')?.state, 'killed');
    assert.equal((await call('POST', '/v1/agents/reader/revive', T.admin, {})).status, 200);
    assert.equal(
      ((await (await call('POST', '/v1/check', T.reader, read)).json()) as { effect: string }).effect,
      'allow',
    );
  });
});
