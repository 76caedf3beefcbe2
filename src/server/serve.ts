import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import type { Warden } from '../pipeline/warden.js';
import { createApp } from './app.js';
import type { TokenRegistry } from './tokens.js';

export interface ServerOptions {
  /** Default 127.0.0.1: the control plane is not exposed unless told to be. */
  host?: string;
  /** Default 8787; 0 picks a free port. */
  port?: number;
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Starts the control plane and resolves once it listens. */
export function startServer(
  warden: Warden,
  tokens: TokenRegistry,
  options: ServerOptions = {},
): Promise<RunningServer> {
  const app = createApp(warden, tokens);
  const hostname = options.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const server = serve({ fetch: app.fetch, hostname, port: options.port ?? 8787 }, (info: AddressInfo) => {
      const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolve({
        url: `http://${host}:${info.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            (server as { closeAllConnections?: () => void }).closeAllConnections?.();
          }),
      });
    });
    server.once('error', (error: NodeJS.ErrnoException) => {
      const hint = error.code === 'EADDRINUSE' ? `; pick another with --port` : '';
      reject(new Error(`cannot listen on ${hostname}:${options.port ?? 8787}: ${error.message}${hint}`));
    });
  });
}
