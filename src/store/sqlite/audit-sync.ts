import type { Database } from 'better-sqlite3';
import { z } from 'zod';

/**
 * How hard a SQLite commit is made durable (policy `audit.sync`).
 * - `full` (default): WAL with `synchronous=FULL`: the WAL is fsync'd at every commit, so a
 *   resolved write survives a crash of the process, of the OS and a power loss.
 * - `normal`: WAL with `synchronous=NORMAL`: no fsync at commit (only at checkpoints), so a
 *   resolved write survives a crash of the Warden process but the last commits may be lost on a
 *   power loss or OS crash. The file is never corrupted either way.
 */
export type AuditSync = 'full' | 'normal';

export const AuditSyncSchema = z.enum(['full', 'normal']);

/** Applies `sync` to a WAL connection and reads it back: throws if SQLite did not take it. */
export function applySync(db: Database, sync: AuditSync): void {
  db.pragma(`synchronous = ${sync === 'normal' ? 'NORMAL' : 'FULL'}`);
  const applied = synchronousOf(db);
  if (applied !== sync) {
    throw new Error(`SQLite did not apply \`synchronous = ${sync}\` (it reports \`${applied}\`)`);
  }
}

/** The connection's `synchronous` setting as an {@link AuditSync} (`off`/`extra` reported as such). */
export function synchronousOf(db: Database): AuditSync | 'off' | 'extra' {
  const level = db.pragma('synchronous', { simple: true }) as number;
  return (['off', 'normal', 'full', 'extra'] as const)[level] ?? 'off';
}
