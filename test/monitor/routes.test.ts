import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Warden } from '../../src/pipeline/warden.js';
import { createApp } from '../../src/server/app.js';
import { TokenRegistry } from '../../src/server/tokens.js';
import { testWarden } from '../../src/testing/index.js';
import { runCli } from '../helpers/cli.js';

const ADMIN = 'admin-token-0123456789';
const VIEWER = 'viewer-token-0123456789';
let warden: Warden;
let app: ReturnType<typeof createApp>;

before(async () => {
  warden = await testWarden({ agents: { bot: { allow: ['fs.read'], resources: { paths: ['/d/**'] } } } });
  const tokens = new TokenRegistry([]);
  tokens.register(ADMIN, { name: 'root', role: 'admin' });
  tokens.register(VIEWER, { name: 'vic', role: 'viewer' });
  app = createApp(warden, tokens);
});
after(() => warden.close());

const post = (path: string, token: string, body?: unknown) =>
  app.request(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

test('an admin revokes and restores an agent over HTTP; a viewer may not; a no-op is 409', async () => {
  assert.equal((await post('/v1/agents/bot/revoke', VIEWER)).status, 403);
  const revoked = await post('/v1/agents/bot/revoke', ADMIN, { reason: 'leak' });
  assert.equal(revoked.status, 200);
  const decision = await warden.check({ agent: 'bot', type: 'fs.read', params: { path: '/d/a' } });
  assert.equal(decision.reasons[0]?.code, 'permissions.revoked');
  assert.match(decision.reasons[0]?.message ?? '', /revoked by root .*: leak/);
  const again = await post('/v1/agents/bot/revoke', ADMIN);
  assert.equal(again.status, 409);
  assert.equal(((await again.json()) as { error: { code: string } }).error.code, 'override.unchanged');
  assert.equal((await post('/v1/agents/bot/restore', ADMIN)).status, 200);
  assert.equal(
    (await warden.check({ agent: 'bot', type: 'fs.read', params: { path: '/d/a' } })).effect,
    'allow',
  );
});

test('an admin lifts a `tighten-limits` tightening over HTTP with clear-tighten', async () => {
  await warden.overrides.change('bot', 'tighten', 'warden:monitor', 'anomaly.loop: looping', {
    anomaly: 'anomaly.loop',
  });
  assert.equal((await post('/v1/agents/bot/clear-tighten', VIEWER)).status, 403);
  const cleared = await post('/v1/agents/bot/clear-tighten', ADMIN, { reason: 'fixed' });
  assert.equal(cleared.status, 200);
  const body = (await cleared.json()) as { change: string; overrides: { tightened: unknown[] } };
  assert.equal(body.change, 'clear-tighten');
  assert.deepEqual(body.overrides.tightened, []);
  assert.equal(warden.overrides.tightened('bot'), undefined);
  assert.equal((await post('/v1/agents/bot/clear-tighten', ADMIN)).status, 409);
});

test('/metrics is 404 `metrics.disabled` when the policy leaves monitoring off', async () => {
  const res = await app.request('/metrics', { headers: { authorization: `Bearer ${VIEWER}` } });
  assert.equal(res.status, 404);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'metrics.disabled');
});

test('`warden incident report` refuses a bad time and a bad format with a message, not a stack', async () => {
  const bad = await runCli([
    'incident',
    'report',
    '--agent',
    'bot',
    '--since',
    'yesterday-ish',
    '--db',
    'nope.db',
  ]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--since `yesterday-ish`: expected an ISO time/);
  const format = await runCli(['incident', 'report', '--agent', 'bot', '--since', '1h', '--format', 'pdf']);
  assert.equal(format.code, 2);
  assert.match(format.stderr, /--format `pdf`: expected md, html or json/);
  assert.doesNotMatch(bad.stderr + format.stderr, /\n\s+at /);
});
