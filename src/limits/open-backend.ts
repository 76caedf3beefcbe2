import { WardenError } from '../contract/errors.js';
import { durationMs } from '../policy/schema.js';
import type { ConnectionConfig, LimitsConfig } from '../policy/sections/limits.js';
import type { Store } from '../store/store.js';
import type { LimitsBackend } from './backend.js';
import { memoryBackend } from './backends/memory-backend.js';

/**
 * A `limits` backend that cannot be opened as configured (`limits.invalid-config`): the message
 * says what to fix.
 */
export class LimitsConfigError extends WardenError {
  override readonly name = 'LimitsConfigError';
  declare readonly code: 'limits.invalid-config';
  constructor(message: string, options?: { cause?: unknown }) {
    super('limits.invalid-config', message, options);
  }
}

/** What a store may offer its limits: its SQLite file, or its PostgreSQL server and schema. */
export type LimitsHome = Pick<Store, 'kind'> & {
  file?: string;
  pg?: { url: string; schema: string; timeoutMs: number };
};

/** Which backend the section names, or the one that follows the store (SPEC §7). */
export function backendKind(config: LimitsConfig, store: Pick<Store, 'kind'>): LimitsBackend['kind'] {
  if (config.backend) return config.backend;
  return store.kind === 'sqlite' ? 'sqlite' : store.kind === 'postgres' ? 'postgres' : 'memory';
}

/**
 * The connection URL: `url` with each `${VAR}` replaced from the environment, or the variable
 * `urlEnv` names. A variable that is not set is an error naming it (never an empty URL).
 */
export function resolveUrl(
  which: 'redis' | 'postgres',
  conn: ConnectionConfig | undefined,
  env: NodeJS.ProcessEnv = process.env,
): string {
  if (conn?.urlEnv) {
    const value = env[conn.urlEnv];
    if (!value)
      throw new LimitsConfigError(
        `limits.${which}.urlEnv: environment variable \`${conn.urlEnv}\` is not set; set it to the ${which} URL`,
      );
    return value;
  }
  if (!conn?.url) {
    throw new LimitsConfigError(
      `limits.backend is \`${which}\` but \`limits.${which}.url\` (or \`urlEnv\`) is missing; add e.g. \`url: \${${which === 'redis' ? 'REDIS_URL' : 'DATABASE_URL'}}\``,
    );
  }
  return conn.url.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = env[name];
    if (value === undefined) {
      throw new LimitsConfigError(`limits.${which}.url: environment variable \`${name}\` is not set`);
    }
    return value;
  });
}

/**
 * Opens the backend the policy names. `sqliteFile` is the store's file (required for `sqlite`).
 * Drivers are imported only when used.
 */
export async function openLimitsBackend(config: LimitsConfig, store: LimitsHome): Promise<LimitsBackend> {
  const kind = backendKind(config, store);
  switch (kind) {
    case 'memory':
      return memoryBackend();
    case 'sqlite': {
      if (!store.file) {
        throw new LimitsConfigError(
          'limits.backend is `sqlite` but the store is not a SQLite file; use `memory`, `redis` or `postgres`, or run with the SQLite store',
        );
      }
      const { sqliteBackend } = await import('./backends/sqlite-backend.js');
      return sqliteBackend(store.file);
    }
    case 'redis': {
      const { RedisBackend } = await import('./backends/redis-backend.js');
      const backend = new RedisBackend({
        url: resolveUrl('redis', config.redis),
        prefix: config.redis?.prefix ?? 'warden',
        timeoutMs: durationMs(config.redis?.timeout ?? '500ms'),
      });
      await backend.connect();
      return backend;
    }
    case 'postgres': {
      const { postgresBackend } = await import('./backends/postgres-backend.js');
      // With no `limits.postgres`, limits follow a PostgreSQL store: same server, same schema.
      const follow = !config.postgres && store.pg ? store.pg : undefined;
      return postgresBackend({
        url: follow ? follow.url : resolveUrl('postgres', config.postgres),
        schema: config.postgres?.prefix ?? follow?.schema ?? 'warden',
        timeoutMs: config.postgres?.timeout
          ? durationMs(config.postgres.timeout)
          : (follow?.timeoutMs ?? durationMs('500ms')),
      });
    }
  }
}

/**
 * The backend `openLimitsBackend` would open, opened on first use instead of now: for the
 * emergency limit of a policy that sets no other limit, which counts only once an agent is
 * tightened. An open that fails is retried on the next use (the limit denies meanwhile).
 */
export function openLimitsBackendOnUse(config: LimitsConfig, store: LimitsHome): LimitsBackend {
  let opening: Promise<LimitsBackend> | undefined;
  let closed = false;
  const open = (): Promise<LimitsBackend> => {
    if (closed) return Promise.reject(new Error('the limits backend is closed'));
    opening ??= openLimitsBackend(config, store).catch((error: unknown) => {
      opening = undefined;
      throw error;
    });
    return opening;
  };
  return {
    kind: backendKind(config, store),
    rate: async (specs, member, consume) => (await open()).rate(specs, member, consume),
    unrate: async (specs, member) => (await open()).unrate(specs, member),
    reserve: async (budget, hold, consume) => (await open()).reserve(budget, hold, consume),
    settle: async (key, holdId, micros) => (await open()).settle(key, holdId, micros),
    release: async (key, holdId) => (await open()).release(key, holdId),
    holdKeys: async (holdId) => (await open()).holdKeys(holdId),
    session: async (key, ttlMs, consume) => (await open()).session(key, ttlMs, consume),
    keys: async (prefix) => (await open()).keys(prefix),
    close: async () => {
      closed = true;
      const backend = await opening?.catch(() => undefined);
      await backend?.close();
    },
  };
}
