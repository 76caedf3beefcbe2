import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Warden } from '../../src/pipeline/warden.js';
import { createApp } from '../../src/server/app.js';
import { TokenRegistry } from '../../src/server/tokens.js';
import { testWarden } from '../../src/testing/index.js';

const ORIGIN = 'http://warden.test';
const T = { admin: 'admin-token-session-0123456789', agent: 'agent-token-session-0123456789' };
let warden: Warden;
let app: ReturnType<typeof createApp>;

before(async () => {
  warden = await testWarden({ agents: { bot: { allow: ['fs.read'], resources: { paths: ['/data/**'] } } } });
  const tokens = new TokenRegistry([]);
  tokens.register(T.admin, { name: 'root', role: 'admin' });
  tokens.register(T.agent, { name: 'bot', role: 'agent', agent: 'bot' });
  app = createApp(warden, tokens);
});
after(() => warden.close());

const req = (path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) =>
  app.request(`${ORIGIN}${path}`, { ...init, headers: { host: 'warden.test', ...init.headers } });

async function login(token = T.admin, origin = ORIGIN) {
  const r = await req('/v1/session', {
    method: 'POST',
    headers: { origin, 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  const cookie = (r.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
  return {
    status: r.status,
    cookie,
    setCookie: r.headers.get('set-cookie') ?? '',
    body: (await r.json()) as Record<string, unknown>,
  };
}

describe('dashboard sessions', () => {
  test('a token is exchanged for an HttpOnly SameSite=Strict cookie; the response carries no token', async () => {
    const s = await login();
    assert.equal(s.status, 200);
    assert.match(s.setCookie, /HttpOnly/);
    assert.match(s.setCookie, /SameSite=Strict/);
    assert.doesNotMatch(s.setCookie, new RegExp(T.admin));
    assert.deepEqual(Object.keys(s.body).sort(), ['csrf', 'name', 'role']);
    const me = await req('/v1/session', { headers: { cookie: s.cookie } });
    assert.equal(((await me.json()) as { role: string }).role, 'admin');
  });

  test('a login from another origin, an unknown token or an agent token is refused', async () => {
    assert.equal((await login(T.admin, 'https://evil.example')).status, 403);
    assert.equal((await login('not-a-token-at-all-000')).status, 401);
    assert.equal((await login(T.agent)).status, 403);
  });

  test('cookie-authenticated changes need the CSRF header and a same-origin Origin; reads do not', async () => {
    const s = await login();
    const csrf = s.body.csrf as string;
    const kill = (headers: Record<string, string>) =>
      req('/v1/agents/bot/kill', {
        method: 'POST',
        headers: { cookie: s.cookie, 'content-type': 'application/json', ...headers },
        body: '{}',
      });
    const cases: Array<[string, Record<string, string>]> = [
      ['no CSRF header', { origin: ORIGIN }],
      ['wrong CSRF token', { origin: ORIGIN, 'x-warden-csrf': 'x'.repeat(csrf.length) }],
      ['cross-site origin', { origin: 'https://evil.example', 'x-warden-csrf': csrf }],
      ['no origin', { 'x-warden-csrf': csrf }],
    ];
    for (const [what, headers] of cases) {
      const r = await kill(headers);
      assert.equal(r.status, 403, what);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, 'auth.csrf', what);
    }
    assert.equal(warden.kills.list().length, 0, 'nothing was killed');
    assert.equal(
      (await req('/v1/agents', { headers: { cookie: s.cookie } })).status,
      200,
      'reads need no CSRF token',
    );
    assert.equal((await kill({ origin: ORIGIN, 'x-warden-csrf': csrf })).status, 200);
    assert.equal(warden.kills.list().length, 1);
    await warden.kills.revive('bot', 'test', '');
  });

  test('bearer-token API calls are unchanged: no cookie, no CSRF header needed', async () => {
    const r = await req('/v1/agents/bot/kill', {
      method: 'POST',
      headers: { authorization: `Bearer ${T.admin}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(r.status, 200);
    await warden.kills.revive('bot', 'test', '');
  });

  test('signing out ends the session', async () => {
    const s = await login();
    const out = await req('/v1/session', {
      method: 'DELETE',
      headers: { cookie: s.cookie, origin: ORIGIN, 'x-warden-csrf': s.body.csrf as string },
    });
    assert.equal(out.status, 200);
    assert.equal((await req('/v1/agents', { headers: { cookie: s.cookie } })).status, 401);
  });

  test('the dashboard page is served with a CSP that allows only its own files', async () => {
    const r = await req('/dashboard/');
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(r.headers.get('x-frame-options'), 'DENY');
    assert.equal((await req('/dashboard/../package.json')).status, 404);
  });
});

describe('audit search', () => {
  test('pages newest first with a cursor, and filters by text (case-insensitive) and by type', async () => {
    for (let i = 0; i < 30; i++) {
      await warden.audit.append({
        type: i % 2 ? 'result' : 'decision',
        agent: 'bot',
        actionId: `act_s${i}`,
        data: { note: i === 7 ? 'Needle in HAY' : `hay ${i}` },
      });
    }
    const get = async (q: string) =>
      (await (
        await req(`/v1/audit/search?${q}`, { headers: { authorization: `Bearer ${T.admin}` } })
      ).json()) as {
        records: Array<{ seq: number; actionId: string; type: string }>;
        next?: number;
      };
    const first = await get('agent=bot&limit=10');
    assert.equal(first.records.length, 10);
    assert.equal(first.records[0]?.actionId, 'act_s29');
    const second = await get(`agent=bot&limit=10&before=${first.next}`);
    assert.equal(second.records[0]?.actionId, 'act_s19');
    const third = await get(`agent=bot&limit=10&before=${second.next}`);
    assert.equal(third.records.at(-1)?.actionId, 'act_s0');
    const found = await get('q=needle%20IN%20hay');
    assert.deepEqual(
      found.records.map((r) => r.actionId),
      ['act_s7'],
    );
    assert.equal(found.next, undefined, 'the last page has no cursor');
    const results = await get('agent=bot&type=result&limit=100');
    assert.equal(results.records.length, 15);
    const bad = await req('/v1/audit/search?before=abc', { headers: { authorization: `Bearer ${T.admin}` } });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: { message: string } }).error.message, /`before`/);
  });
});

describe('server-sent events', () => {
  test('a viewer follows audit records as they commit; an agent token may not', async () => {
    const agentTry = await req('/v1/events', { headers: { authorization: `Bearer ${T.agent}` } });
    assert.equal(agentTry.status, 403);
    const controller = new AbortController();
    const r = await app.request(`${ORIGIN}/v1/events`, {
      headers: { host: 'warden.test', authorization: `Bearer ${T.admin}` },
      signal: controller.signal,
    });
    assert.equal(r.status, 200);
    assert.match(r.headers.get('content-type') ?? '', /text\/event-stream/);
    const reader = (r.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const readUntil = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value);
      }
    };
    await readUntil(/event: hello/);
    await warden.audit.append({
      type: 'decision',
      agent: 'bot',
      actionId: 'act_sse_1',
      data: { live: true },
    });
    await readUntil(/act_sse_1/);
    assert.match(text, /event: audit\ndata: \{.*"actionId":"act_sse_1"/);
    controller.abort();
    await reader.cancel().catch(() => {});
  });
});
