import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { slackSignature } from '../../src/approvals/channels/slack.js';
import { verifyWebhook } from '../../src/approvals/channels/webhook.js';
import type { Warden } from '../../src/pipeline/warden.js';
import { type RunningServer, startServer } from '../../src/server/serve.js';
import { TokenRegistry } from '../../src/server/tokens.js';
import { testWarden } from '../../src/testing/index.js';

const SECRET = 'slack-signing-secret-for-tests-0123';
const HOOK_SECRET = 'webhook-secret-for-tests-0123456';
process.env.WARDEN_TEST_SLACK_SECRET = SECRET;
process.env.WARDEN_TEST_HOOK_SECRET = HOOK_SECRET;
const AGENT_TOKEN = 'payer-agent-token-0123456789';

/** Slack's side, as documented: an incoming webhook that receives messages, and response_urls. */
interface Received {
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
}
let slack: Server;
let slackUrl = '';
const received: Received[] = [];
let warden: Warden;
let server: RunningServer;

before(async () => {
  slack = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d;
    });
    req.on('end', () => {
      received.push({ path: req.url ?? '', body, headers: req.headers });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((r) => slack.listen(0, '127.0.0.1', r));
  slackUrl = `http://127.0.0.1:${(slack.address() as { port: number }).port}`;
  warden = await testWarden({
    agents: { payer: { allow: ['payment.*'] } },
    approvals: {
      channels: {
        slack: {
          webhookUrl: `${slackUrl}/services/T000/B000/XXXX`,
          signingSecretEnv: 'WARDEN_TEST_SLACK_SECRET',
          users: { U0ALICE: 'alice', U0CAROL: { name: 'carol', role: 'admin' } },
          responseUrlPrefix: `${slackUrl}/actions/`,
        },
        webhooks: [{ url: `${slackUrl}/hook`, secretEnv: 'WARDEN_TEST_HOOK_SECRET' }],
      },
    },
  });
  const tokens = new TokenRegistry([]);
  tokens.register(AGENT_TOKEN, { name: 'payer-bot', role: 'agent', agent: 'payer' });
  server = await startServer(warden, tokens, { port: 0 });
});
after(async () => {
  await server.close();
  await warden.close();
  await new Promise((r) => slack.close(r));
});

async function until<T>(fn: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

let n = 0;
async function submitPayment() {
  const id = `act_slack_${++n}`;
  const r = await fetch(`${server.url}/v1/actions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${AGENT_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      id,
      agent: 'payer',
      type: 'payment.send',
      params: { amount: 99, currency: 'USD', to: 'acme' },
    }),
  });
  const view = (await r.json()) as { approvalId: string };
  // The message Slack received for it, with its buttons.
  const message = await until(
    () =>
      received.find(
        (m) =>
          m.path.startsWith('/services/') && m.body.includes(view.approvalId) && m.body.includes('blocks'),
      ),
    'the Slack message',
  );
  const blocks = (
    JSON.parse(message.body) as {
      blocks: Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>;
    }
  ).blocks;
  const buttons = blocks.find((b) => b.type === 'actions')?.elements ?? [];
  return { id, approvalId: view.approvalId, buttons };
}

/** A click as Slack sends it: form-encoded `payload=`, signed with v0 over the raw body. */
function click(
  button: { action_id: string; value: string },
  user: string,
  options: { ts?: number; secret?: string } = {},
) {
  const payload = {
    type: 'block_actions',
    user: { id: user, username: user.toLowerCase() },
    actions: [{ action_id: button.action_id, value: button.value, type: 'button' }],
    response_url: `${slackUrl}/actions/T000/${++n}`,
  };
  const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
  const ts = String(options.ts ?? Math.floor(Date.now() / 1000));
  return fetch(`${server.url}/v1/slack/interactions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': ts,
      'x-slack-signature': slackSignature(options.secret ?? SECRET, ts, body),
    },
    body,
  }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as Record<string, unknown>,
    responseUrl: payload.response_url,
  }));
}

const votes = async (approvalId: string) => (await warden.approvals.get(approvalId))?.votes ?? [];

describe('Slack approvals', () => {
  test('the message carries the action, its risk and Approve / Deny buttons bound to the digest', async () => {
    const p = await submitPayment();
    assert.deepEqual(
      p.buttons.map((b) => b.action_id),
      ['warden_approve', 'warden_deny'],
    );
    const record = await warden.approvals.get(p.approvalId);
    assert.deepEqual(JSON.parse(p.buttons[0]?.value ?? '{}'), { id: p.approvalId, digest: record?.digest });
  });

  test('a wrong signature or a stale timestamp is rejected and counts no vote', async () => {
    const p = await submitPayment();
    const approve = p.buttons[0] as { action_id: string; value: string };
    const forged = await click(approve, 'U0ALICE', { secret: 'not-the-secret' });
    assert.equal(forged.status, 401);
    assert.equal((forged.body.error as { code: string }).code, 'slack.bad-signature');
    const stale = await click(approve, 'U0ALICE', { ts: Math.floor(Date.now() / 1000) - 6 * 60 });
    assert.equal(stale.status, 401);
    assert.equal((stale.body.error as { code: string }).code, 'slack.stale-timestamp');
    assert.deepEqual(await votes(p.approvalId), []);
    await warden.audit.flush();
    const audited = await warden.store.audit.query({ actionId: p.id, type: 'approval.vote' });
    assert.equal(audited.length, 0);
  });

  test('a captured click replayed byte for byte counts no second vote', async () => {
    const p = await submitPayment();
    const approve = p.buttons[0] as { action_id: string; value: string };
    const payload = JSON.stringify({
      type: 'block_actions',
      user: { id: 'U0ALICE' },
      actions: [{ action_id: approve.action_id, value: approve.value }],
    });
    const body = new URLSearchParams({ payload }).toString();
    const ts = String(Math.floor(Date.now() / 1000));
    const send = () =>
      fetch(`${server.url}/v1/slack/interactions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-slack-request-timestamp': ts,
          'x-slack-signature': slackSignature(SECRET, ts, body),
        },
        body,
      }).then((r) => r.json() as Promise<{ ok: boolean; error?: { code: string } }>);
    assert.equal((await send()).ok, true);
    const replay = await send();
    assert.equal(replay.error?.code, 'approval.duplicate-vote');
    assert.equal((await votes(p.approvalId)).length, 1);
  });

  test('a button whose value was edited (another approval, another digest) fails the signature', async () => {
    const p = await submitPayment();
    const approve = p.buttons[0] as { action_id: string; value: string };
    const payload = JSON.stringify({
      type: 'block_actions',
      user: { id: 'U0ALICE' },
      actions: [{ action_id: approve.action_id, value: approve.value }],
    });
    const body = new URLSearchParams({ payload }).toString();
    const ts = String(Math.floor(Date.now() / 1000));
    const edited = body.replace(encodeURIComponent(p.approvalId).slice(0, 8), 'apr_XXXX');
    const r = await fetch(`${server.url}/v1/slack/interactions`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-slack-request-timestamp': ts,
        'x-slack-signature': slackSignature(SECRET, ts, body),
      },
      body: edited,
    });
    assert.notEqual(edited, body);
    assert.equal(r.status, 401);
    assert.deepEqual(await votes(p.approvalId), []);
  });

  test('an unmapped Slack user cannot vote and is told why', async () => {
    const p = await submitPayment();
    const r = await click(p.buttons[0] as { action_id: string; value: string }, 'U0MALLORY');
    assert.equal((r.body.error as { code: string }).code, 'slack.unmapped-user');
    assert.deepEqual(await votes(p.approvalId), []);
    const reply = await until(
      () => received.find((m) => m.path === new URL(r.responseUrl).pathname),
      'the ephemeral reply',
    );
    assert.match(reply.body, /not mapped/);
  });

  test('two mapped Slack users release a two-approver payment; the same user twice does not', async () => {
    const p = await submitPayment();
    const approve = p.buttons[0] as { action_id: string; value: string };
    assert.equal((await click(approve, 'U0ALICE')).body.ok, true);
    const again = await click(approve, 'U0ALICE');
    assert.equal((again.body.error as { code: string }).code, 'approval.duplicate-vote');
    assert.equal((await warden.approvals.get(p.approvalId))?.status, 'pending');
    const second = await click(approve, 'U0CAROL');
    assert.deepEqual(second.body.approval, { id: p.approvalId, status: 'approved' });
    const record = await warden.approvals.get(p.approvalId);
    assert.deepEqual(
      record?.votes.map((v) => [v.approver, v.role, v.channel]),
      [
        ['alice', 'approver', 'slack'],
        ['carol', 'admin', 'slack'],
      ],
    );
    const replaced = await until(
      () => received.find((m) => m.path === new URL(second.responseUrl).pathname),
      'the message update',
    );
    assert.equal(JSON.parse(replaced.body).replace_original, true);
    assert.match(replaced.body, /approved/);
  });

  test('Deny from Slack denies the action', async () => {
    const p = await submitPayment();
    const r = await click(p.buttons[1] as { action_id: string; value: string }, 'U0CAROL');
    assert.deepEqual(r.body.approval, { id: p.approvalId, status: 'denied' });
  });
});

describe('generic signed webhook', () => {
  test('each request and its outcome are POSTed with an HMAC signature and timestamp a receiver can verify', async () => {
    const p = await submitPayment();
    await click(p.buttons[1] as { action_id: string; value: string }, 'U0ALICE');
    const deliveries = await until(() => {
      const list = received.filter((m) => m.path === '/hook' && m.body.includes(p.approvalId));
      return list.length >= 2 ? list : undefined;
    }, 'two webhook deliveries');
    for (const d of deliveries) {
      const ts = d.headers['x-warden-timestamp'] as string;
      const sig = d.headers['x-warden-signature'] as string;
      assert.equal(verifyWebhook(HOOK_SECRET, ts, d.body, sig), true);
      assert.equal(verifyWebhook('wrong-secret', ts, d.body, sig), false);
      assert.equal(verifyWebhook(HOOK_SECRET, ts, `${d.body} `, sig), false, 'a changed body fails');
      assert.equal(verifyWebhook(HOOK_SECRET, String(Number(ts) - 600), d.body, sig), false);
    }
    assert.deepEqual(
      deliveries.map((d) => JSON.parse(d.body).event),
      ['approval.requested', 'approval.decided'],
    );
  });
});
