import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createServer as createTlsServer } from 'node:tls';
import type { Action } from '../../src/contract/action.js';
import { createHttpExecutor, type HttpResponse } from '../../src/execute/http-executor.js';
import { compileHttp } from '../../src/guards/http/url-checks.js';
import type { LookupFn } from '../../src/net/addresses.js';
import { HttpPolicySchema } from '../../src/policy/sections/http.js';
import { testWarden } from '../../src/testing/index.js';

/** A loopback server that records what reached it; `/redirect?to=` answers 302 to `to`. */
let server: Server;
let port: number;
const hits: { url: string; host: string | undefined; method: string; body: string }[] = [];

before(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      hits.push({ url: req.url ?? '', host: req.headers.host, method: req.method ?? '', body });
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/redirect') {
        res.writeHead(Number(url.searchParams.get('status') ?? 302), {
          location: url.searchParams.get('to') ?? '/',
        });
        res.end();
      } else if (url.pathname === '/big') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('x'.repeat(4096));
      } else if (url.pathname === '/slow') {
        setTimeout(() => res.end('late'), 2000).unref();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true, path: url.pathname }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** A resolver that counts its calls and answers from a table. */
function resolver(table: Record<string, string[]>): LookupFn & { calls: string[] } {
  const calls: string[] = [];
  const fn = async (host: string) => {
    calls.push(host);
    return (table[host] ?? []).map((address) => ({
      address,
      family: (address.includes(':') ? 6 : 4) as 4 | 6,
    }));
  };
  return Object.assign(fn, { calls });
}

function executor(lookup: LookupFn, options: { permit?: boolean; policy?: object } = {}) {
  const http = compileHttp(HttpPolicySchema.parse(options.policy ?? {}), 1500);
  return createHttpExecutor({
    http,
    lookup,
    ...(options.permit === false ? {} : { permit: [{ address: '127.0.0.1', port }] }),
  });
}

const action = (url: string, extra: Record<string, unknown> = {}): Action =>
  ({ id: 'a1', agent: 'tester', type: 'http.request', params: { url, ...extra } }) as Action;

const ctx = () => ({ signal: new AbortController().signal, deadline: Date.now() + 5000 });

async function refused(pending: unknown, code: string, detail?: RegExp): Promise<void> {
  await assert.rejects(Promise.resolve(pending), (error: Error & { code?: string }) => {
    assert.equal(error.code, code, error.message);
    if (detail) assert.match(error.message, detail);
    return true;
  });
}

describe('SSRF-safe HTTP executor against a loopback server', () => {
  it('refuses a public-looking name that resolves to a private address, and nothing reaches the server', async () => {
    const before = hits.length;
    const lookup = resolver({ 'api.totally-public.example': ['127.0.0.1'] });
    // No permit: the server really is at 127.0.0.1:port, so only the vetting stops the request.
    const run = executor(lookup, { permit: false })(
      action(`http://api.totally-public.example:${port}/data`),
      ctx(),
    );
    await refused(run, 'http.ssrf-blocked', /`127\.0\.0\.1`.*loopback/);
    assert.equal(hits.length, before, 'the request must not reach the server');
  });

  it('refuses names that resolve into 10/8, metadata, CGNAT and IPv4-mapped IPv6', async () => {
    const lookup = resolver({
      'a.example': ['10.0.0.8'],
      'b.example': ['169.254.169.254'],
      'c.example': ['100.100.100.200'],
      'd.example': ['::ffff:127.0.0.1'],
      'e.example': ['93.184.215.14', '192.168.1.1'],
    });
    const run = executor(lookup, { permit: false });
    await refused(run(action('http://a.example/'), ctx()), 'http.ssrf-blocked', /private/);
    await refused(run(action('http://b.example/'), ctx()), 'http.ssrf-blocked', /metadata/);
    await refused(run(action('http://c.example/'), ctx()), 'http.ssrf-blocked', /metadata/);
    await refused(run(action('http://d.example/'), ctx()), 'http.ssrf-blocked', /mapped/);
    await refused(run(action('http://e.example/'), ctx()), 'http.ssrf-blocked', /192\.168/);
  });

  it('connects to the vetted address with one lookup, keeping the name in Host', async () => {
    const lookup = resolver({ 'api.service.example': ['127.0.0.1'] });
    const out = (await executor(lookup)(
      action(`http://api.service.example:${port}/v1/items?x=1`),
      ctx(),
    )) as HttpResponse;
    assert.equal(out.status, 200);
    assert.deepEqual(JSON.parse(out.body), { ok: true, path: '/v1/items' });
    assert.deepEqual(lookup.calls, ['api.service.example']);
    assert.equal(hits.at(-1)?.host, `api.service.example:${port}`);
  });

  it('https connects to the vetted address with the name as TLS SNI', async () => {
    const names: string[] = [];
    // No certificate: the handshake fails after the ClientHello, which is what this test reads.
    const tlsServer = createTlsServer({
      SNICallback: (name, callback) => {
        names.push(name);
        callback(new Error('no certificate in this test'), undefined);
      },
    });
    tlsServer.on('tlsClientError', () => undefined);
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    const tlsPort = (tlsServer.address() as AddressInfo).port;
    try {
      const lookup = resolver({ 'secure.service.example': ['127.0.0.1'] });
      const run = createHttpExecutor({
        http: compileHttp(HttpPolicySchema.parse({}), 1500),
        lookup,
        permit: [{ address: '127.0.0.1', port: tlsPort }],
      });
      await assert.rejects(Promise.resolve(run(action(`https://secure.service.example:${tlsPort}/`), ctx())));
      assert.deepEqual(names, ['secure.service.example']);
      assert.deepEqual(lookup.calls, ['secure.service.example']);
    } finally {
      await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
    }
  });

  it('the test permit is exact: another port on the same loopback address is still refused', async () => {
    const lookup = resolver({ 'api.service.example': ['127.0.0.1'] });
    await refused(
      executor(lookup)(action(`http://api.service.example:${port + 1}/`), ctx()),
      'http.ssrf-blocked',
    );
  });

  it('refuses a redirect from an allowed server to 127.0.0.1 and to 169.254.169.254', async () => {
    const lookup = resolver({ 'files.example': ['127.0.0.1'] });
    const run = executor(lookup);
    for (const [to, range] of [
      [`http://127.0.0.1:${port}/secret`, /loopback/],
      ['http://169.254.169.254/latest/meta-data/iam/', /metadata/],
      ['http://[::ffff:a9fe:a9fe]/', /metadata/],
      [`http://2130706433:${port}/`, /loopback/],
    ] as const) {
      const before = hits.length;
      const url = `http://files.example:${port}/redirect?to=${encodeURIComponent(to)}`;
      await refused(run(action(url), ctx()), 'http.ssrf-blocked', range);
      assert.equal(hits.length, before + 1, 'only the first hop reached the server');
    }
  });

  it('refuses a redirect to a name that resolves privately, to another scheme, and past the redirect limit', async () => {
    const lookup = resolver({ 'files.example': ['127.0.0.1'], 'intranet.example': ['10.1.2.3'] });
    const run = executor(lookup, { policy: { maxRedirects: 2 } });
    const via = (to: string) => `http://files.example:${port}/redirect?to=${encodeURIComponent(to)}`;
    await refused(run(action(via('http://intranet.example/')), ctx()), 'http.ssrf-blocked', /10\.1\.2\.3/);
    await refused(run(action(via('file:///etc/passwd')), ctx()), 'http.scheme-not-allowed');
    await refused(run(action(via('http://localhost/')), ctx()), 'http.host-denied');
    const loop = via(via(via(`http://files.example:${port}/end`)));
    await refused(run(action(loop), ctx()), 'http.too-many-redirects');
  });

  it('follows an allowed redirect, re-vetting the hop, and 303 turns a POST into a GET', async () => {
    const lookup = resolver({ 'files.example': ['127.0.0.1'], 'cdn.example': ['127.0.0.1'] });
    const to = `http://cdn.example:${port}/final`;
    const url = `http://files.example:${port}/redirect?status=303&to=${encodeURIComponent(to)}`;
    const out = (await executor(lookup)(
      action(url, { method: 'POST', body: { a: 1 } }),
      ctx(),
    )) as HttpResponse;
    assert.equal(out.status, 200);
    assert.equal(out.url, to);
    assert.deepEqual(out.redirects, [to]);
    assert.equal(hits.at(-1)?.method, 'GET');
    assert.deepEqual(lookup.calls, ['files.example', 'cdn.example']);
  });

  it('caps the response size and the time a request may take', async () => {
    const lookup = resolver({ 'api.service.example': ['127.0.0.1'] });
    const small = executor(lookup, { policy: { maxResponseBytes: 1024 } });
    await refused(small(action(`http://api.service.example:${port}/big`), ctx()), 'http.response-too-large');
    const started = Date.now();
    await refused(executor(lookup)(action(`http://api.service.example:${port}/slow`), ctx()), 'http.timeout');
    assert.ok(Date.now() - started < 1900, 'the 1.5 s timeout fired before the 2 s answer');
  });

  it('sends a JSON body and the agent headers', async () => {
    const lookup = resolver({ 'api.service.example': ['127.0.0.1'] });
    await executor(lookup)(
      action(`http://api.service.example:${port}/v1/orders`, {
        method: 'POST',
        body: { sku: 'a', qty: 2 },
        headers: { 'x-trace': '1' },
      }),
      ctx(),
    );
    assert.deepEqual(JSON.parse(hits.at(-1)?.body ?? ''), { sku: 'a', qty: 2 });
  });
});

describe('http.request through a Warden', () => {
  it('a policy alone gives run() the SSRF-safe executor: a literal internal URL never runs', async () => {
    const warden = await testWarden({
      agents: { web: { allow: ['http.request'], resources: { hosts: ['*'] } } },
    });
    try {
      const result = await warden.run({
        agent: 'web',
        type: 'http.request',
        params: { url: `http://0x7f.1:${port}/` },
      });
      assert.equal(result.decision.effect, 'deny');
      assert.equal(result.reason?.code, 'http.ssrf-blocked');
    } finally {
      await warden.close();
    }
  });

  it('refuses a redirect to a host outside the agent grant', async () => {
    const lookup = resolver({ 'ok.example': ['127.0.0.1'], 'other.example': ['127.0.0.1'] });
    const http = compileHttp(HttpPolicySchema.parse({}), 1500);
    const warden = await testWarden(
      { agents: { web: { allow: ['http.request'], resources: { hosts: ['ok.example'] } } } },
      {
        executors: {
          'http.request': createHttpExecutor({
            http,
            lookup,
            permit: [{ address: '127.0.0.1', port }],
            hostGranted: (agent, host) => agent === 'web' && host === 'ok.example',
          }) as never,
        },
      },
    );
    try {
      const to = `http://other.example:${port}/`;
      const ok = await warden.run({
        agent: 'web',
        type: 'http.request',
        params: { url: `http://ok.example:${port}/a` },
      });
      assert.equal(ok.status, 'completed');
      const redirected = await warden.run({
        agent: 'web',
        type: 'http.request',
        params: { url: `http://ok.example:${port}/redirect?to=${encodeURIComponent(to)}` },
      });
      assert.equal(redirected.status, 'failed');
      assert.match(redirected.reason?.message ?? '', /http\.redirect-refused/);
    } finally {
      await warden.close();
    }
  });
});
