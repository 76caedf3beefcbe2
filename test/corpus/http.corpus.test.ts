import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createHttpExecutor } from '../../src/execute/http-executor.js';
import { compileHttp } from '../../src/guards/http/url-checks.js';
import type { Warden } from '../../src/pipeline/warden.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { HttpPolicySchema } from '../../src/policy/sections/http.js';
import { testWarden } from '../../src/testing/index.js';
import { readJsonl } from './corpus.js';

/**
 * The HTTP corpus (`test/corpus/http/*.jsonl`): attacks are never allowed and carry the reason
 * code they name; benign requests are allowed. DNS and redirect attacks run through the SSRF-safe
 * executor against a loopback server, with an injected resolver.
 */

interface Case {
  id: string;
  params: Record<string, unknown>;
  expect: 'deny' | 'ask' | 'allow' | 'refused';
  code?: string;
  dns?: Record<string, string[]>;
  execute?: boolean;
}

function load(file: string): Case[] {
  return readJsonl<Case>('http', file, (entry, where) => {
    if (!entry.id || !entry.expect || (entry.expect !== 'allow' && !entry.code))
      throw new Error(`${where}: every entry needs an id, an expect and (unless allowed) a code`);
  });
}

const attacks = load('attacks.jsonl');
const executorAttacks = load('attacks-executor.jsonl');
const benign = load('benign.jsonl');

const POLICY: PolicyInput = {
  agents: { agent: { allow: ['http.request'], resources: { hosts: ['*'] } } },
  http: {
    endpoints: [
      {
        url: 'https://api.shop.example/v1/orders*',
        methods: ['POST', 'PUT'],
        schema: {
          type: 'object',
          required: ['sku', 'qty'],
          additionalProperties: false,
          properties: {
            sku: { type: 'string', minLength: 1 },
            qty: { type: 'integer', minimum: 1, maximum: 100 },
          },
        },
      },
    ],
  },
};

let server: Server;
let port = 0;
let warden: Warden;
// Names the loopback test server answers for; everything else comes from the case's `dns`.
const SERVER_NAMES = ['redirector.example', 'api.service.example', 'cdn.example'];

before(async () => {
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    req.resume();
    if (url.pathname === '/redirect') {
      // `to64` hides the target from the guard's view of the first URL (base64url, with {PORT}).
      const to64 = url.searchParams.get('to64');
      const to = to64
        ? Buffer.from(to64, 'base64url').toString().replaceAll('{PORT}', String(port))
        : url.searchParams.get('to');
      res.writeHead(Number(url.searchParams.get('status') ?? 302), { location: to ?? '/' });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(async () => {
  await warden?.close();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** A Warden whose `http.request` executor resolves through `dns` and may reach only the test server. */
async function wardenFor(dns: Record<string, string[]>): Promise<Warden> {
  const table: Record<string, string[]> = { ...dns };
  for (const name of SERVER_NAMES) table[name] ??= ['127.0.0.1'];
  const http = compileHttp(HttpPolicySchema.parse(POLICY.http), 3000);
  const executor = createHttpExecutor({
    http,
    lookup: async (host) =>
      (table[host] ?? []).map((address) => ({ address, family: address.includes(':') ? 6 : 4 }) as const),
    permit: [{ address: '127.0.0.1', port }],
  });
  return testWarden(POLICY, { executors: { 'http.request': executor as never } });
}

const withPort = (params: Record<string, unknown>) =>
  JSON.parse(JSON.stringify(params).replaceAll('{PORT}', String(port))) as Record<string, unknown>;

describe('HTTP corpus: attacks the guard sees in the URL', () => {
  before(async () => {
    warden = await testWarden(POLICY);
  });
  it(`has at least 60 attack cases in all (${attacks.length + executorAttacks.length})`, () => {
    assert.ok(attacks.length + executorAttacks.length >= 60);
  });
  for (const c of attacks) {
    it(`${c.expect}s ${c.id} with ${c.code}`, async () => {
      const decision = await warden.check({ agent: 'agent', type: 'http.request', params: c.params });
      assert.notEqual(decision.effect, 'allow');
      assert.equal(decision.effect, c.expect, JSON.stringify(decision.reasons));
      assert.ok(
        decision.reasons.some((r) => r.code === c.code),
        `expected ${c.code}, got ${decision.reasons.map((r) => r.code).join(', ')}`,
      );
    });
  }
});

describe('HTTP corpus: attacks only the executor can see (DNS, redirects)', () => {
  for (const c of executorAttacks) {
    it(`refuses ${c.id} with ${c.code}`, async () => {
      const w = await wardenFor(c.dns ?? {});
      try {
        const action = { agent: 'agent', type: 'http.request', params: withPort(c.params) };
        // Nothing in the URL gives these away: the guard allows, the executor must refuse.
        assert.equal((await w.check(action)).effect, 'allow');
        const result = await w.run(action);
        assert.notEqual(result.status, 'completed', `${c.id} completed`);
        assert.match(
          result.reason?.message ?? '',
          new RegExp(`^the executor failed: ${String(c.code).replace('.', '\\.')}:`),
        );
      } finally {
        await w.close();
      }
    });
  }
});

describe('HTTP corpus: benign requests', () => {
  it(`has at least 40 benign cases (${benign.length})`, () => assert.ok(benign.length >= 40));
  for (const c of benign) {
    it(`allows ${c.id}${c.execute ? ' and executes it' : ''}`, async () => {
      if (!c.execute) {
        const decision = await warden.check({ agent: 'agent', type: 'http.request', params: c.params });
        assert.equal(decision.effect, 'allow', JSON.stringify(decision.reasons));
        return;
      }
      const w = await wardenFor(c.dns ?? {});
      try {
        const result = await w.run({ agent: 'agent', type: 'http.request', params: withPort(c.params) });
        assert.equal(result.status, 'completed', JSON.stringify(result.reason));
        assert.equal((result.output as { status: number }).status, 200);
      } finally {
        await w.close();
      }
    });
  }
});
