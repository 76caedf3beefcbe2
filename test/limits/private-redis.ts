import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { after, before } from 'node:test';

export interface PrivateRedis {
  url(): string;
  start(): void;
  stop(): void;
  /** Runs `redis-cli` against it: `cli('SCRIPT', 'FLUSH')`. */
  cli(...args: string[]): string;
}

/**
 * A redis-server of the suite's own, on a free port, started before its tests and shut down after:
 * for tests that stop, pause or flush Redis, which the shared Redis of parallel runs must not see.
 */
export function privateRedis(): PrivateRedis {
  let port = 0;
  const cli = (...args: string[]) =>
    execFileSync('redis-cli', ['-p', String(port), ...args])
      .toString()
      .trim();
  const redis: PrivateRedis = {
    url: () => `redis://127.0.0.1:${port}`,
    start: () => {
      execFileSync('redis-server', [
        ...['--port', String(port), '--bind', '127.0.0.1', '--daemonize', 'yes'],
        ...['--save', '', '--appendonly', 'no', '--dir', '/tmp', '--logfile', ''],
      ]);
    },
    stop: () => {
      try {
        cli('shutdown', 'nosave');
      } catch {
        // already stopped
      }
    },
    cli,
  };
  before(async () => {
    port = await freePort();
    try {
      redis.start();
    } catch (error) {
      assert.fail(
        `this test starts its own redis-server: install it (\`apt-get install redis-server\`): ${error}`,
      );
    }
    await waitFor(() => {
      try {
        return cli('ping') === 'PONG';
      } catch {
        return false;
      }
    });
  });
  after(() => redis.stop());
  return redis;
}

export async function waitFor(cond: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) assert.fail(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}
