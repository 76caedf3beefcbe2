import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Warden } from '../../pipeline/warden.js';
import { testWarden } from '../../testing/index.js';
import { createApp } from '../app.js';
import { TokenRegistry } from '../tokens.js';

let warden: Warden;
let app: ReturnType<typeof createApp>;
const T = { viewer: 'viewer-token-0123456789', admin: 'admin-token-0123456789' };

before(async () => {
  warden = await testWarden({
    agents: { research: { allow: ['search.web', 'fs.read'], resources: { paths: ['/data/**'] } } },
    limits: { budgets: [{ usd: 5, period: 'day' }] },
  });
  const tokens = new TokenRegistry([]);
  tokens.register(T.viewer, { name: 'vic', role: 'viewer' });
  tokens.register(T.admin, { name: 'root', role: 'admin' });
  app = createApp(warden, tokens);
  const ok = () => 'ok';
  await warden.run(
    { agent: 'research', type: 'search.web', session: 's1', params: { q: 'a' }, cost: { usd: 0.5 } },
    ok,
  );
  await warden.run(
    { agent: 'research', type: 'fs.read', session: 's1', params: { path: '/etc/passwd' } },
    ok,
  );
  await warden.run({ agent: 'research', type: 'fs.read', session: 's2', params: { path: '/home/x' } }, ok);
});
after(() => warden.close());

const get = (path: string, token: string) =>
  app.request(path, { headers: { authorization: `Bearer ${token}` } });

describe('dashboard read endpoints', () => {
  test('the overview counts the last hour’s decisions by effect, spend and top deny reasons from the store', async () => {
    const r = await get('/v1/overview?window=1h', T.viewer);
    assert.equal(r.status, 200);
    const o = (await r.json()) as {
      decisions: { allow: number; deny: number }[];
      spend: { agent: string; usd: number }[];
      reasons: { effect: string; code: string; count: number }[];
      budgets: { agent: string; usd: number }[];
    };
    const sum = (k: 'allow' | 'deny') => o.decisions.reduce((n, b) => n + b[k], 0);
    assert.equal(sum('allow'), 1);
    assert.equal(sum('deny'), 2);
    assert.deepEqual(
      o.spend.map((s) => [s.agent, s.usd]),
      [['research', 0.5]],
    );
    assert.ok(o.reasons.some((x) => x.effect === 'deny' && x.count >= 1));
    assert.deepEqual(
      o.budgets.map((b) => [b.agent, b.usd]),
      [['research', 5]],
    );
  });

  test('a bad window is refused with what was expected', async () => {
    const r = await get('/v1/overview?window=2y', T.viewer);
    assert.equal(r.status, 400);
    assert.match(
      ((await r.json()) as { error: { message: string } }).error.message,
      /`window`: expected one of/,
    );
  });

  test('a session trace lists its steps in order with the decision’s reasons', async () => {
    const list = (await (await get('/v1/sessions?agent=research', T.viewer)).json()) as {
      sessions: { session: string }[];
    };
    assert.deepEqual(
      list.sessions.map((s) => s.session),
      ['s2', 's1'],
    );
    const r = await get('/v1/sessions/research/s1', T.viewer);
    const trace = (await r.json()) as {
      steps: { action: { type: string }; decision: { effect: string; reasons: { code: string }[] } }[];
    };
    assert.deepEqual(
      trace.steps.map((s) => [s.action.type, s.decision.effect]),
      [
        ['search.web', 'allow'],
        ['fs.read', 'deny'],
      ],
    );
    assert.ok(trace.steps[1]?.decision.reasons[0]?.code);
  });

  test('the incident report comes with a proposed policy diff; only an admin may export it', async () => {
    const r = await get('/v1/incident?agent=research&since=1h', T.viewer);
    assert.equal(r.status, 200);
    const body = (await r.json()) as {
      report: { actions: { denied: number } };
      prevention: { diff: string };
    };
    assert.equal(body.report.actions.denied, 2);
    assert.equal(typeof body.prevention.diff, 'string');
    const refused = await get('/v1/incident/export?agent=research&since=1h', T.viewer);
    assert.equal(refused.status, 403);
    const exported = await get('/v1/incident/export?agent=research&since=1h&format=md', T.admin);
    assert.equal(exported.status, 200);
    assert.match(
      exported.headers.get('content-disposition') ?? '',
      /attachment; filename="incident-research-/,
    );
    assert.match(await exported.text(), /# Incident report: agent `research`/);
    const bad = await get('/v1/incident?agent=research&since=yesterday', T.viewer);
    assert.equal(bad.status, 400);
  });
});
