import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { SandboxPolicySchema } from '../../src/policy/sections/sandbox.js';
import { type BwrapSandbox, createBwrapSandbox } from '../../src/sandbox/bwrap-sandbox.js';
import { compileDomainAllowlist, startNetworkProxy } from '../../src/sandbox/network-proxy.js';
import { TEST_LIMITS } from './helpers.js';

// sandbox.network.allow: the filtering proxy is the only way out, and it applies the SSRF rules.
// No internet here: an "allowed" site is a server on the host's loopback, reached through a test
// resolver with private addresses permitted (a switch no policy can set).

let site: Server;
let port = 0;
let hits = 0;
before(async () => {
  site = createServer((req, res) => {
    hits++;
    res.end(`site says hello to ${req.headers.host}`);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  port = (site.address() as { port: number }).port;
});
after(() => new Promise<void>((resolve) => site.close(() => resolve())));

function fetchScript(url: string): string {
  return [
    'import urllib.request, urllib.error',
    'try:',
    `    print("OK", urllib.request.urlopen(${JSON.stringify(url)}, timeout=5).read().decode())`,
    'except urllib.error.HTTPError as e:',
    '    print("HTTP", e.code, e.read().decode().strip())',
    'except Exception as e:',
    '    print("FAILED", e)',
  ].join('\n');
}

async function boxWith(
  allow: string[],
  options: Parameters<typeof startNetworkProxy>[1],
): Promise<BwrapSandbox> {
  const bridge = await startNetworkProxy(allow, options);
  const policy = SandboxPolicySchema.parse({ limits: TEST_LIMITS, network: { allow } });
  return createBwrapSandbox(policy, bridge);
}

describe('network allowlist through the proxy', () => {
  let open: BwrapSandbox;
  let strict: BwrapSandbox;
  before(async () => {
    open = await boxWith(['allowed.test'], {
      ports: [port],
      allowPrivate: true,
      lookup: async (host) => (host === 'allowed.test' ? [{ address: '127.0.0.1', family: 4 }] : []),
    });
    strict = await boxWith(['localhost', 'rebind.test'], {
      ports: [port],
      lookup: async (host) =>
        host === 'rebind.test'
          ? [
              { address: '93.184.216.34', family: 4 },
              { address: '169.254.169.254', family: 4 },
            ]
          : [{ address: '127.0.0.1', family: 4 }],
    });
  });
  after(async () => {
    await open.close();
    await strict.close();
  });

  test('an allowlisted domain is reached through the proxy (plain http and CONNECT)', async () => {
    const r = await open.run({ argv: ['python3', '-'], stdin: fetchScript(`http://allowed.test:${port}/`) });
    assert.equal(r.stdout.text.trim(), `OK site says hello to allowed.test:${port}`);
    const tunnel = [
      'import socket',
      's = socket.create_connection(("127.0.0.1", 3128))',
      `s.sendall(b"CONNECT allowed.test:${port} HTTP/1.1\\r\\nHost: allowed.test\\r\\n\\r\\n")`,
      'print(s.recv(100).split(b"\\r\\n")[0].decode())',
      's.sendall(b"GET / HTTP/1.0\\r\\nHost: tunnel\\r\\n\\r\\n")',
      'print(s.recv(1000).split(b"\\r\\n\\r\\n")[1].decode())',
    ].join('\n');
    const t = await open.run({ argv: ['python3', '-'], stdin: tunnel });
    assert.equal(t.stdout.text, 'HTTP/1.1 200 Connection Established\nsite says hello to tunnel\n');
  });

  test('a domain not on the list is refused with a reason', async () => {
    const before = hits;
    const r = await open.run({ argv: ['python3', '-'], stdin: fetchScript('http://evil.com/') });
    assert.match(r.stdout.text, /^HTTP 403 .*`evil.com` is not in sandbox.network.allow/);
    assert.equal(hits, before);
  });

  test('an allowlisted name that resolves to a private or metadata address is refused (SSRF rules)', async () => {
    const before = hits;
    const local = await strict.run({
      argv: ['python3', '-'],
      stdin: fetchScript(`http://localhost:${port}/`),
    });
    assert.match(local.stdout.text, /^HTTP 403 .*loopback/);
    const rebind = await strict.run({
      argv: ['python3', '-'],
      stdin: fetchScript(`http://rebind.test:${port}/`),
    });
    assert.match(rebind.stdout.text, /^HTTP 403 .*169\.254\.169\.254.*(metadata|link-local)/);
    assert.equal(hits, before);
  });

  test('the proxy is the only way out: direct connections and DNS still fail', async () => {
    const code = [
      'import socket',
      'try:',
      `    socket.create_connection(("127.0.0.1", ${port}), timeout=2); print("CONNECTED")`,
      'except OSError as e: print("direct failed")',
      'try:',
      '    socket.getaddrinfo("allowed.test", 80); print("RESOLVED")',
      'except OSError as e: print("dns failed")',
    ].join('\n');
    const r = await open.run({ argv: ['python3', '-'], stdin: code });
    assert.equal(r.stdout.text, 'direct failed\ndns failed\n');
  });

  test('ports outside sandbox.network.ports are refused', async () => {
    const r = await open.run({ argv: ['python3', '-'], stdin: fetchScript('http://allowed.test:22/') });
    assert.match(r.stdout.text, /^HTTP 403 .*port 22 is not allowed/);
  });
});

test('domain patterns: exact names, and *.suffix for subdomains only', () => {
  const allowed = compileDomainAllowlist(['example.com', '*.api.test']);
  assert.equal(allowed('example.com'), true);
  assert.equal(allowed('EXAMPLE.com.'), true);
  assert.equal(allowed('www.example.com'), false);
  assert.equal(allowed('v1.api.test'), true);
  assert.equal(allowed('api.test'), false);
  assert.equal(allowed('evilapi.test'), false);
});
