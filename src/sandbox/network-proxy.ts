import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LookupFn, resolveVetted } from '../net/addresses.js';
import { nodeInside } from './bwrap-host.js';
import type { NetworkBridge } from './bwrap-sandbox.js';

/**
 * The only way out of a sandbox whose policy names `sandbox.network.allow`: an HTTP proxy on a
 * unix socket of the host, bound into the sandbox, plus a small forwarder inside that listens
 * on 127.0.0.1:3128 in the sandbox's own network namespace (which has no other interface).
 * `HTTP_PROXY`/`HTTPS_PROXY` point there. The proxy allows `CONNECT host:port` and plain
 * `http://` requests only to allowlisted domains and ports (default 80, 443), resolves them itself and refuses any address in
 * the SSRF ranges (loopback, private, link-local, metadata, …), then connects to the vetted
 * address — so a name that re-resolves to 127.0.0.1 later cannot be used.
 */

const INSIDE_SOCKET = '/run/warden/proxy.sock';
const INSIDE_FORWARDER = '/opt/warden/forwarder.mjs';
export const PROXY_PORT = 3128;

const FORWARDER = `import { connect, createServer } from 'node:net';
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
const [socket, ...argv] = process.argv.slice(2);
const server = createServer((client) => {
  const upstream = connect(socket);
  client.pipe(upstream).on('error', () => upstream.destroy());
  upstream.pipe(client).on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
});
server.listen(${PROXY_PORT}, '127.0.0.1', () => {
  const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit' });
  child.on('error', (e) => { process.stderr.write('warden sandbox: ' + argv[0] + ': ' + e.message + '\\n'); process.exit(127); });
  child.on('exit', (code, signal) => process.exit(code ?? 128 + (constants.signals[signal] ?? 0)));
});
`;

/** `example.com` matches itself; `*.example.com` matches its subdomains. */
export function compileDomainAllowlist(patterns: readonly string[]): (host: string) => boolean {
  const exact = new Set<string>();
  const suffixes: string[] = [];
  for (const p of patterns) {
    const lower = p.toLowerCase().replace(/\.$/, '');
    if (lower.startsWith('*.')) suffixes.push(lower.slice(1));
    else exact.add(lower);
  }
  return (host) => {
    const h = host.toLowerCase().replace(/\.$/, '');
    return exact.has(h) || suffixes.some((s) => h.endsWith(s) && h.length > s.length);
  };
}

export interface ProxyOptions {
  /** Destination ports allowed (default 80 and 443). */
  ports?: readonly number[];
  /** Tests only: resolve names here instead of the system resolver. */
  lookup?: LookupFn;
  /** Tests only: let allowlisted names resolve to private addresses. Never set from a policy. */
  allowPrivate?: boolean;
}

export async function startNetworkProxy(
  allow: readonly string[],
  options: ProxyOptions = {},
): Promise<NetworkBridge> {
  const allowed = compileDomainAllowlist(allow);
  const ports = new Set(options.ports ?? [80, 443]);
  const vetting = {
    ...(options.lookup ? { lookup: options.lookup } : {}),
    ...(options.allowPrivate ? { allowPrivate: true } : {}),
  };
  const dir = mkdtempSync(join(tmpdir(), 'warden-proxy-'));
  chmodSync(dir, 0o711);
  const socketPath = join(dir, 'proxy.sock');
  const forwarder = join(dir, 'forwarder.mjs');
  writeFileSync(forwarder, FORWARDER, { mode: 0o644 });

  const refuse = (why: string) => `warden sandbox proxy: ${why}\n`;
  const vet = async (host: string, port: number): Promise<string> => {
    if (!allowed(host)) throw new Error(refuse(`\`${host}\` is not in sandbox.network.allow`));
    if (!ports.has(port))
      throw new Error(
        refuse(`port ${port} is not allowed (sandbox.network.ports: ${[...ports].join(', ')})`),
      );
    try {
      return (await resolveVetted(host, vetting)).address;
    } catch (error) {
      throw new Error(refuse((error as Error).message));
    }
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '');
      if (url.protocol !== 'http:') throw new Error('not http');
    } catch {
      res.writeHead(400).end(refuse('expected an absolute http:// URL (use CONNECT for https)'));
      return;
    }
    const port = Number(url.port || 80);
    vet(url.hostname, port).then(
      (address) => {
        const upstream = httpRequest(
          {
            host: address,
            port,
            method: req.method,
            path: `${url.pathname}${url.search}`,
            headers: { ...req.headers, host: url.host },
            setHost: false,
            timeout: 30_000,
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        upstream.on('error', (e) => res.writeHead(502).end(refuse(e.message)));
        req.pipe(upstream);
      },
      (error: Error) => res.writeHead(403).end(error.message),
    );
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    client.on('error', () => undefined);
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(req.url ?? '');
    if (!m) {
      client.end(`HTTP/1.1 400 Bad Request\r\n\r\n${refuse('expected CONNECT host:port')}`);
      return;
    }
    const host = m[1] as string;
    const port = Number(m[2]);
    vet(host, port).then(
      (address) => {
        const upstream = connect({ host: address, port, timeout: 10_000 });
        upstream.once('connect', () => {
          upstream.setTimeout(0);
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          if (head.length > 0) upstream.write(head);
          upstream.pipe(client);
          client.pipe(upstream);
        });
        upstream.on('timeout', () => upstream.destroy(new Error('connect timeout')));
        upstream.on('error', (e) => client.end(`HTTP/1.1 502 Bad Gateway\r\n\r\n${refuse(e.message)}`));
      },
      (error: Error) => client.end(`HTTP/1.1 403 Forbidden\r\n\r\n${error.message}`),
    );
  });
  const open = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    open.add(socket);
    socket.on('close', () => open.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => resolve());
  });
  chmodSync(socketPath, 0o666); // the sandbox's uid connects to it

  const node = nodeInside();
  const proxyUrl = `http://127.0.0.1:${PROXY_PORT}`;
  return {
    description: `proxy allowing ${allow.join(', ')}`,
    args: ['--ro-bind', forwarder, INSIDE_FORWARDER, '--bind', socketPath, INSIDE_SOCKET],
    env: {
      HTTP_PROXY: proxyUrl,
      HTTPS_PROXY: proxyUrl,
      http_proxy: proxyUrl,
      https_proxy: proxyUrl,
      NO_PROXY: '',
    },
    wrap: (argv) => [node, INSIDE_FORWARDER, INSIDE_SOCKET, ...argv],
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of open) socket.destroy();
      await closed;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
