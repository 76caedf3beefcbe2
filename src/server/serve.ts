import type { Server } from 'node:http';
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
  /** A client must finish sending its request headers within this; default 10 s. */
  headersTimeoutMs?: number;
  /**
   * A client must finish sending its whole request (headers and body) within this; default 30 s.
   * It bounds receiving only: a long answer (`/v1/events`, `?wait=`) is not cut by it.
   */
  requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this; default 5 s. */
  keepAliveTimeoutMs?: number;
  /** Connections open at once at most; more are refused until some close. Default 1,000. */
  maxConnections?: number;
}

/** The defaults of {@link ServerOptions}' limits, documented in docs/operations.md. */
export const SERVER_LIMITS = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1_000,
} as const;

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
  const limits = { ...SERVER_LIMITS, ...definedOnly(options) };
  // Node checks the headers and request timeouts every `connectionsCheckingInterval` (30 s by
  // default): check often enough that a slow client is dropped close to its deadline.
  const serverOptions = {
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: Math.max(limits.requestTimeoutMs, limits.headersTimeoutMs),
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
  };
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, hostname, port: options.port ?? 8787, serverOptions },
      (info: AddressInfo) => {
        const host = info.family === 'IPv6' ? `[${info.address}]` : info.address;
        resolve({
          url: `http://${host}:${info.port}`,
          close: () =>
            new Promise<void>((done) => {
              server.close(() => done());
              (server as { closeAllConnections?: () => void }).closeAllConnections?.();
            }),
        });
      },
    ) as Server;
    server.maxConnections = limits.maxConnections;
    server.once('error', (error: NodeJS.ErrnoException) => {
      const hint = error.code === 'EADDRINUSE' ? `; pick another with --port` : '';
      reject(new Error(`cannot listen on ${hostname}:${options.port ?? 8787}: ${error.message}${hint}`));
    });
  });
}

function definedOnly(options: ServerOptions): Partial<typeof SERVER_LIMITS> {
  const out: Record<string, number> = {};
  for (const key of Object.keys(SERVER_LIMITS) as Array<keyof typeof SERVER_LIMITS>) {
    const value = options[key];
    if (value !== undefined) out[key] = value;
  }
  return out;
}
