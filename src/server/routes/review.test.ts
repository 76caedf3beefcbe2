import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Warden } from '../../pipeline/warden.js';
import { testWarden } from '../../testing/index.js';
import { createApp } from '../app.js';
import { TokenRegistry } from '../tokens.js';

const T = { viewer: 'viewer-token-0123456789', bot: 'bot-agent-0123456789' };

describe('POST /v1/review', () => {
  let warden: Warden;
  let call: (token: string, body: unknown) => Promise<{ status: number; body: Record<string, unknown> }>;
  before(async () => {
    warden = await testWarden({ agents: { bot: { allow: ['llm.output'] } } });
    const tokens = new TokenRegistry([]);
    tokens.register(T.viewer, { name: 'vic', role: 'viewer' });
    tokens.register(T.bot, { name: 'bot', role: 'agent', agent: 'bot' });
    const app = createApp(warden, tokens);
    call = async (token, body) => {
      const r = await app.request('/v1/review', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify(body),
      });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
  });
  after(() => warden.close());

  test('answers the text redacted, with findings that carry hashes and never the values', async () => {
    const r = await call(T.bot, { text: 'write to bob@example.com or call +44 20 7946 0958' });
    assert.equal(r.status, 200);
    assert.equal(r.body.effect, 'redact');
    const raw = JSON.stringify(r.body);
    assert.ok(!raw.includes('bob@example.com') && !raw.includes('7946'), raw);
    assert.deepEqual(
      (r.body.findings as Array<{ kind: string }>).map((f) => f.kind),
      ['email', 'phone'],
    );
  });

  test('a body without text is a 400 naming the field', async () => {
    const r = await call(T.viewer, { txt: 'x' });
    assert.equal(r.status, 400);
    assert.equal((r.body.error as { code?: string } | undefined)?.code ?? r.body.code, 'validate.invalid');
  });

  test('an agent token cannot review for another agent', async () => {
    const r = await call(T.bot, { text: 'x', agent: 'someone-else' });
    assert.equal(r.status, 403);
  });
});
