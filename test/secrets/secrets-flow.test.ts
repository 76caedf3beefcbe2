import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Action } from '../../src/contract/action.js';
import { createHttpExecutor } from '../../src/execute/http-executor.js';
import { withSecretReferences } from '../../src/execute/secret-references.js';
import { compileHttp } from '../../src/guards/http/url-checks.js';
import { HttpPolicySchema } from '../../src/policy/sections/http.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { testWarden } from '../../src/testing/index.js';

const AWS = 'aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzq3T8vLk2a';
const TOKEN = 'ghp_Zq81kXp02LmnT7vB3wYyA9cD4eF6gH1jK2mN';
let server: Server;
let port: number;
const received: Array<{ headers: Record<string, unknown>; body: string }> = [];

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(500, { 'content-type': 'text/plain' });
      // A server that echoes what it got: the reference's value must not come back to the agent.
      res.end(`rejected ${String(req.headers.authorization)}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

const policy = {
  agents: {
    bot: {
      allow: ['http.request', 'llm.output'],
      resources: { hosts: ['api.local.test', 'api.example.com', 's3.amazonaws.com', 'api.github.com'] },
    },
  },
  rules: [{ id: 'http-ok', effect: 'allow' as const, match: { type: 'http.request' } }],
  secrets: { references: { GH: { env: 'TEST_GH_TOKEN', hosts: ['api.local.test', 'api.github.com'] } } },
};

function localExecutor() {
  const http = compileHttp(HttpPolicySchema.parse({}), 3000);
  const lookup = async () => [{ address: '127.0.0.1', family: 4 as const }];
  const exec = createHttpExecutor({ http, lookup, permit: [{ address: '127.0.0.1', port }] });
  return withSecretReferences(exec, policy.secrets.references);
}

describe('outbound secrets', () => {
  test('an AWS key sent to another service is denied; to its own service, or without the key, it is not', async () => {
    const w = await testWarden(policy);
    try {
      const post = (url: string, body: string) =>
        w.check({ agent: 'bot', type: 'http.request', params: { url, method: 'POST', body } });
      const leak = await post('https://api.example.com/upload', AWS);
      assert.equal(leak.effect, 'deny');
      assert.equal(leak.reasons[0]?.code, 'secrets.exfiltration');
      assert.equal((await post('https://s3.amazonaws.com/bucket', AWS)).effect, 'allow');
      assert.equal((await post('https://api.example.com/upload', 'hello')).effect, 'allow');
      const header = await w.check({
        agent: 'bot',
        type: 'http.request',
        params: { url: 'https://api.example.com/', headers: { 'x-token': TOKEN } },
      });
      assert.equal(
        header.reasons[0]?.code,
        'secrets.exfiltration',
        'a GitHub token in a header, not to GitHub',
      );
    } finally {
      await w.close();
    }
  });

  test('a reference may go only to its hosts, and an unknown reference is refused', async () => {
    const w = await testWarden(policy);
    try {
      const send = (url: string, ref: string) =>
        w.check({
          agent: 'bot',
          type: 'http.request',
          params: { url, headers: { authorization: `Bearer {{secret:${ref}}}` } },
        });
      assert.equal((await send('https://api.example.com/', 'GH')).reasons[0]?.code, 'secrets.reference-host');
      assert.equal(
        (await send('https://api.github.com/', 'NOPE')).reasons[0]?.code,
        'secrets.unknown-reference',
      );
      assert.equal((await send('https://api.github.com/', 'GH')).effect, 'allow');
    } finally {
      await w.close();
    }
  });
});

describe('secret references and redaction', () => {
  test('a reference reaches the executor’s server but appears nowhere in the decision, the result or the audit', async () => {
    process.env.TEST_GH_TOKEN = 'gh-reference-value-1234567890';
    const store = new MemoryStore();
    const w = await testWarden(policy, { store });
    try {
      const result = await w.run(
        {
          agent: 'bot',
          type: 'http.request',
          params: {
            url: `http://api.local.test:${port}/x`,
            method: 'POST',
            headers: { authorization: 'Bearer {{secret:GH}}' },
            body: 'hi',
          },
        },
        localExecutor(),
      );
      assert.equal(received.at(-1)?.headers.authorization, 'Bearer gh-reference-value-1234567890');
      const everything = JSON.stringify([result, await store.audit.query({ limit: 100 })]);
      assert.ok(!everything.includes('gh-reference-value'), everything);
      assert.ok(everything.includes('{{secret:GH}}'));
      assert.equal((await store.audit.verify()).ok, true);
    } finally {
      delete process.env.TEST_GH_TOKEN;
      await w.close();
    }
  });

  test('a raw secret in an action is redacted in the audit (hash and rule), and the chain still verifies', async () => {
    const store = new MemoryStore();
    const w = await testWarden(policy, { store });
    try {
      await w.decide({
        agent: 'bot',
        type: 'http.request',
        params: { url: 'https://api.example.com/', method: 'POST', body: AWS },
      });
      const audit = JSON.stringify(await store.audit.query({ limit: 100 }));
      assert.ok(!audit.includes('wJalrXUtnFEMI'), audit);
      assert.match(audit, /\[REDACTED:aws:[0-9a-f]{12}\]/);
      const verified = await store.audit.verify();
      assert.equal(verified.ok, true, JSON.stringify(verified));
    } finally {
      await w.close();
    }
  });

  test('an executor error quoting a secret reaches the agent redacted', async () => {
    const w = await testWarden(policy);
    try {
      const result = await w.run(
        {
          agent: 'bot',
          type: 'http.request',
          params: { url: 'https://s3.amazonaws.com/b', method: 'PUT', body: AWS },
        },
        () => {
          throw new Error(`upload failed for ${AWS}`);
        },
      );
      assert.equal(result.status, 'failed');
      assert.ok(!JSON.stringify(result).includes('wJalrXUtnFEMI'), JSON.stringify(result.reason));
    } finally {
      await w.close();
    }
  });
});

describe('output review', () => {
  test('llm.output returns the text redacted; a kind the policy denies is refused', async () => {
    const w = await testWarden(policy);
    try {
      const text = `Mail bob@example.com, card 4111 1111 1111 1111, key ${TOKEN}`;
      const run = await w.run({ agent: 'bot', type: 'llm.output', params: { text } });
      const out = run.output as { text: string; effect: string };
      assert.equal(run.status, 'completed');
      assert.ok(
        !out.text.includes('bob@example.com') && !out.text.includes('4111') && !out.text.includes(TOKEN),
        out.text,
      );
      assert.equal(w.review('nothing to see here, version 1.2.3').effect, 'allow');
      const strict = await testWarden({ ...policy, secrets: { review: { secret: 'deny' } } });
      try {
        const d = await strict.check({ agent: 'bot', type: 'llm.output', params: { text } });
        assert.equal(d.effect, 'deny');
        assert.equal(d.reasons[0]?.code, 'output.secret');
      } finally {
        await strict.close();
      }
    } finally {
      await w.close();
    }
  });
});

describe('a secret seen in the session', () => {
  test('its bare value sent to another host is denied, though the outbound scanner alone would not know it', async () => {
    const w = await testWarden(policy);
    try {
      await w.observe({
        agent: 'bot',
        session: 's1',
        source: 'fs:/srv/.env',
        content: AWS,
        trust: 'trusted',
      });
      const bare = AWS.slice(AWS.indexOf('=') + 1);
      const send = (session: string, host: string) =>
        w.check({
          agent: 'bot',
          session,
          type: 'http.request',
          params: { url: `https://${host}/`, method: 'POST', body: bare },
        });
      const leak = await send('s1', 'api.example.com');
      assert.equal(leak.reasons[0]?.code, 'secrets.exfiltration', JSON.stringify(leak.reasons));
      assert.equal((await send('s1', 's3.amazonaws.com')).effect, 'allow', 'to its own service');
      assert.equal((await send('s2', 'api.example.com')).effect, 'allow', 'another session never saw it');
    } finally {
      await w.close();
    }
  });
});

export type { Action };

describe('what leaves Warden: logs and the dashboard', () => {
  test('a raw secret and a reference’s value appear in none of the decision log, the dashboard’s audit, trace and session views', async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { createApp } = await import('../../src/server/app.js');
    const { TokenRegistry } = await import('../../src/server/tokens.js');
    const dir = mkdtempSync(join(tmpdir(), 'warden-leak-'));
    const logFile = join(dir, 'decisions.log');
    process.env.TEST_GH_TOKEN = 'gh-reference-value-1234567890';
    const w = await testWarden({
      ...policy,
      monitoring: { enabled: true, logs: { destination: logFile }, metrics: { enabled: false } },
    });
    try {
      const raw = await w.decide({
        agent: 'bot',
        session: 'leak-1',
        type: 'http.request',
        params: { url: 'https://api.example.com/', method: 'POST', body: AWS },
      });
      await w.run(
        {
          agent: 'bot',
          session: 'leak-1',
          type: 'http.request',
          params: {
            url: `http://api.local.test:${port}/x`,
            method: 'POST',
            headers: { authorization: 'Bearer {{secret:GH}}' },
            body: 'hi',
          },
        },
        localExecutor(),
      );
      const tokens = new TokenRegistry([]);
      tokens.register('viewer-token-0123456789', { name: 'vic', role: 'viewer' });
      const app = createApp(w, tokens);
      const get = async (path: string) =>
        (await app.request(path, { headers: { authorization: 'Bearer viewer-token-0123456789' } })).text();
      const views = [
        await get('/v1/audit?limit=100'),
        await get('/v1/sessions/bot/leak-1'),
        await get(`/v1/actions-trace/bot/${raw.action?.id}`),
        await get('/v1/overview?window=1h'),
      ];
      await w.close();
      const log = readFileSync(logFile, 'utf8');
      assert.ok(log.includes('leak-1') || log.includes('http.request'), 'the decisions were logged');
      for (const [where, text] of [...views.map((v, i) => [`view ${i}`, v]), ['log', log]] as const) {
        assert.ok(!text.includes('wJalrXUtnFEMI'), `${where} holds the raw secret`);
        assert.ok(!text.includes('gh-reference-value'), `${where} holds the reference's value`);
      }
      assert.match(views[0] as string, /\[REDACTED:aws:[0-9a-f]{12}\]/);
    } finally {
      delete process.env.TEST_GH_TOKEN;
      await w.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
