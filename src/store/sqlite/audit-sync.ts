import type { Database } from 'better-sqlite3';
import type { AuditSync } from '../../policy/sections/audit.js';

export type { AuditSync } from '../../policy/sections/audit.js';

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
