import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, Socket } from 'node:net';
import { join } from 'node:path';
import { spawnCli, waitForLine } from '../helpers/cli.js';
import { TINY_SERVER } from '../mcp/mcp-helpers.js';

/**
 * A TCP proxy in front of PostgreSQL that the test can cut and restore: the way to take the
 * database away from the servers without stopping the machine's shared PostgreSQL.
 */
export class CuttableProxy {
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = new Socket();
      upstream.connect(this.target.port, this.target.host);
      for (const s of [client, upstream]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as { port: number }).port;
    this.#server = server;
  }

  /** Drops every connection and refuses new ones. */
  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }
}

/** One `warden serve` process. */
export interface Served {
  child: ChildProcessWithoutNullStreams;
  url: string;
}

export async function serve(dir: string, name: string, policy: string, db: string): Promise<Served> {
  const child = spawnCli([
    'serve',
    '--policy',
    policy,
    '--db',
    db,
    '--port',
    '0',
    '--tokens',
    join(dir, `${name}-tokens.json`),
  ]);
  // FLEET_LOG=FILE keeps every server's stderr there, to read why a run failed.
  child.stderr.on(
    'data',
    (d: Buffer) => process.env.FLEET_LOG && appendFileSync(process.env.FLEET_LOG, `[${name}] ${d}`),
  );
  const [, url] = (await waitForLine(
    child,
    /warden listening on (http:\/\/\S+)/,
    90_000,
  )) as RegExpMatchArray;
  child.stdout.on('data', () => undefined);
  return { child, url: url as string };
}

export function writePolicy(dir: string): string {
  const file = join(dir, 'fleet.yaml');
  const agents = [
    ...Array.from({ length: 6 }, (_, i) => `r${i}`),
    ...Array.from({ length: 4 }, (_, i) => `b${i}`),
    'payer',
    'victim',
    'loader',
  ];
  writeFileSync(
    file,
    `version: 1
agents:
${agents.map((a) => `  ${a}: { allow: [tool.call, spend.call, payment.send] }`).join('\n')}
  sleeper: { allow: [mcp.tiny.sleep] }
rules:
  - id: payments-need-two
    effect: ask
    match: { type: payment.send }
    approvals: { required: 2 }
  - id: the-rest
    effect: allow
    match: { type: "*" }
mcp:
  servers:
    tiny: { command: ${JSON.stringify(process.execPath)}, args: [${JSON.stringify(TINY_SERVER)}] }
limits:
  rate:
    - match: { type: tool.call }
      windows: { 1h: 10 }
  budgets:
    - usd: 1
`,
  );
  return file;
}

export async function call(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}
