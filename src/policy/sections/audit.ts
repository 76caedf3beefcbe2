import { z } from 'zod';

/**
 * How hard a SQLite commit is made durable (policy `audit.sync`).
 * - `full` (default): WAL with `synchronous=FULL`: the WAL is fsync'd at every commit, so a
 *   resolved write survives a crash of the process, of the OS and a power loss.
 * - `normal`: WAL with `synchronous=NORMAL`: no fsync at commit (only at checkpoints), so a
 *   resolved write survives a crash of the Warden process but the last commits may be lost on a
 *   power loss or OS crash. The file is never corrupted either way.
 */
export const AuditSyncSchema = z.enum(['full', 'normal']);

export type AuditSync = z.infer<typeof AuditSyncSchema>;
