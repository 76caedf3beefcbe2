import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
  json: unknown;
}

export interface LocalHttp {
  url: string;
  received: Received[];
  /** `ok` answers 200; `fail` answers 500; `blackhole` accepts and never answers. */
  mode: 'ok' | 'fail' | 'blackhole';
  /** Requests that arrived in `blackhole` mode (held open, never answered). */
  held: number;
  /** Resolves once `predicate` holds for the received requests (rejects after `ms`). */
  waitFor(predicate: (r: Received[]) => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** A local HTTP endpoint that records what it is sent: stands in for Slack, PagerDuty, a webhook, a collector. */
export async function localHttp(status = 200, answer = 'ok'): Promise<LocalHttp> {
  const sockets = new Set<Socket>();
  const state: LocalHttp = {
    url: '',
    received: [],
    mode: 'ok',
    held: 0,
    waitFor: (predicate, ms = 10_000) =>
      new Promise((resolve, reject) => {
        const started = Date.now();
        const tick = () => {
          if (predicate(state.received)) return resolve();
          if (Date.now() - started > ms) {
            return reject(
              new Error(
                `timed out; received ${state.received.length}: ${state.received.map((r) => r.body.slice(0, 200)).join('\n')}`,
              ),
            );
          }
          setTimeout(tick, 20);
        };
        tick();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => {
    if (state.mode === 'blackhole') {
      state.held++;
      return; // hold the connection open, answer nothing
    }
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d;
    });
    req.on('end', () => {
      if (state.mode === 'fail') {
        res.writeHead(500).end('down');
        return;
      }
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      state.received.push({ path: req.url ?? '', headers: req.headers, body, json });
      res.writeHead(status, { 'content-type': 'text/plain' }).end(answer);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return state;
}
