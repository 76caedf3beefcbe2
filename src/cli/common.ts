import { resolve } from 'node:path';
import { loadPolicyFile } from '../policy/load.js';
import { PolicyError } from '../policy/policy-error.js';
import { openSqliteStore } from '../store/sqlite/sqlite-store.js';
import type { Store } from '../store/store.js';

export const DEFAULT_DB = '.warden/warden.db';
export const DEFAULT_TOKENS = '.warden/tokens.json';

/** A failure the user can fix: printed as `warden: <message>` with no stack, exit `code`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}

export function loadPolicyOrExit(file: string) {
  try {
    return loadPolicyFile(file);
  } catch (error) {
    if (error instanceof PolicyError) throw new CliError(`invalid policy:\n${error.message}`, 2);
    throw error;
  }
}

export async function openStore(db: string | undefined): Promise<Store> {
  const path = resolve(db ?? process.env.WARDEN_DB ?? DEFAULT_DB);
  try {
    return await openSqliteStore(path);
  } catch (error) {
    throw new CliError(`cannot open the store \`${path}\`: ${(error as Error).message}`, 1);
  }
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
