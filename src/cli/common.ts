import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CompiledPolicy } from '../policy/compile.js';
import { loadPolicyFile } from '../policy/load.js';
import { PolicyError } from '../policy/policy-error.js';
import type { AuditSync } from '../store/sqlite/audit-sync.js';
import type { Store } from '../store/store.js';
import { CliError } from './cli-error.js';

export const DEFAULT_DB = '.warden/warden.db';
export const DEFAULT_TOKENS = '.warden/tokens.json';

export { CliError };

export function loadPolicyOrExit(file: string) {
  try {
    return loadPolicyFile(file);
  } catch (error) {
    if (error instanceof PolicyError) throw new CliError(`invalid policy:\n${error.message}`, 2);
    throw error;
  }
}

/**
 * A policy with no agents is valid (a library user may build one up), but every action under it
 * is denied (`permissions.unknown-agent`): the commands that decide actions (`serve`, `eval`,
 * `mcp`) say so on stderr rather than start a server that silently refuses everything.
 */
export function warnWhenNoAgents(policy: CompiledPolicy, file: string): void {
  if (policy.agents.size > 0) return;
  process.stderr.write(
    `warden: WARNING: policy ${file} defines no agents, so every action will be denied (permissions.unknown-agent).\n` +
      'warden: add one under `agents`, e.g.\n' +
      '  agents:\n    my-agent:\n      allow: [fs.read]\n      resources: { paths: ["/data/**"] }\n' +
      'warden: see docs/policy.md#agents and the examples/ directory\n',
  );
}

/**
 * Opens the store `db` names (else `$WARDEN_DB`, else the default file): a `postgres://` URL opens
 * the PostgreSQL store (its `schema` parameter picks the schema, default `warden`), anything else
 * the SQLite file. Commands that operate on an existing deployment (kill, audit,
 * approvals) pass `mustExist`: a mistyped --db must not silently create an empty store that no
 * server reads — a kill written there would stop nothing. Commands that load a policy pass its
 * `audit.sync`; the others (no policy) commit with the default, `full`.
 */
/**
 * The store a command that loaded `policy` opens: `--db`, else `$WARDEN_DB`, else the policy's
 * `store` section (`url` with `${VAR}` expanded, or `urlEnv`), else the embedded default. A
 * variable the policy names that is not set is an error naming it, never a silent default.
 */
export function storeOf(db: string | undefined, policy: CompiledPolicy): string | undefined {
  if (db ?? process.env.WARDEN_DB) return db ?? process.env.WARDEN_DB;
  const { url, urlEnv } = policy.config.store;
  if (urlEnv) {
    const value = process.env[urlEnv];
    if (!value)
      throw new CliError(
        `store.urlEnv: environment variable \`${urlEnv}\` is not set; set it to the store URL`,
        2,
      );
    return value;
  }
  return url?.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
    const value = process.env[name];
    if (value === undefined) throw new CliError(`store.url: environment variable \`${name}\` is not set`, 2);
    return value;
  });
}

export async function openStore(
  db: string | undefined,
  options: { mustExist?: boolean; sync?: AuditSync; auditWriter?: 'thread' | 'inline' } = {},
): Promise<Store> {
  const named = db ?? process.env.WARDEN_DB ?? DEFAULT_DB;
  if (/^postgres(ql)?:\/\//i.test(named)) return openPostgres(named, options.mustExist ?? false);
  const path = resolve(named);
  if (options.mustExist && !existsSync(path)) {
    throw new CliError(
      `no store at \`${path}\`: pass the --db that \`warden serve\` uses (or set WARDEN_DB), or start \`warden serve\` once to create it`,
      1,
    );
  }
  // Loaded here, not with this module: `warden mcp` reads its policy and starts the upstream server
  // before it loads the store.
  const { openSqliteStore } = await import('../store/sqlite/sqlite-store.js');
  try {
    return await openSqliteStore(path, {
      ...(options.sync ? { sync: options.sync } : {}),
      ...(options.auditWriter ? { auditWriter: options.auditWriter } : {}),
    });
  } catch (error) {
    throw new CliError(`cannot open the store \`${path}\`: ${(error as Error).message}`, 1);
  }
}

async function openPostgres(url: string, mustExist: boolean): Promise<Store> {
  const { openPostgresStore } = await import('../store/postgres/postgres-store.js');
  const { redact } = await import('../store/postgres/pg-client.js');
  try {
    return await openPostgresStore({ url, create: !mustExist });
  } catch (error) {
    throw new CliError(`cannot open the store \`${redact(url)}\`: ${(error as Error).message}`, 1);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
