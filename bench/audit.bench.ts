import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { AuditLog } from '../src/audit/audit-log.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { AuditEntry } from '../src/store/store.js';
import { type BenchRow, formatRows } from './report.js';

const ROW_BYTES = 243;

// Payload of about ROW_BYTES once wrapped in the chain envelope (seq, ts, type, agent, …).
function entry(i: number): AuditEntry {
  return {
    type: 'decision',
    agent: `agent-${i % 16}`,
    actionId: `act-${i}`,
    data: { effect: 'allow', rule: 'read-docs', risk: 'low', target: `/srv/docs/${i % 1000}.md`, ms: 0.004 },
  };
}

/** Bare better-sqlite3: 100 rows of ROW_BYTES per fsync'd WAL transaction. */
export function bareInsertRate(dir: string, rows: number): number {
  const db = new Database(join(dir, 'bare.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (seq INTEGER PRIMARY KEY, payload BLOB NOT NULL)');
  const insert = db.prepare('INSERT INTO t (payload) VALUES (?)');
  const payload = Buffer.alloc(ROW_BYTES, 120);
  const batch = db.transaction(() => {
    for (let i = 0; i < 100; i++) insert.run(payload);
  });
  const started = performance.now();
  for (let i = 0; i < rows / 100; i++) batch.immediate();
  const rate = rows / ((performance.now() - started) / 1000);
  db.close();
  return rate;
}

/** AuditLog.append with `inFlight` appends outstanding at all times. */
async function auditLogRate(dir: string, total: number, inFlight: number): Promise<number> {
  const store = await openSqliteStore(join(dir, 'log.db'));
  const log = new AuditLog(store.audit);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) await log.append(entry(next++));
    }),
  );
  const rate = total / ((performance.now() - started) / 1000);
  await log.close();
  await store.close();
  return rate;
}

/** Single-threaded re-hash of every stored row with a fresh Hash per row. */
function rehashRate(file: string): { rate: number; rows: number } {
  const db = new Database(file, { readonly: true });
  const started = performance.now();
  let prev: Buffer = Buffer.alloc(32);
  let rows = 0;
  for (const [, hash, payload] of db
    .prepare('SELECT seq, hash, payload FROM audit ORDER BY seq')
    .raw()
    .iterate() as Iterable<[number, Buffer, Buffer]>) {
    const computed = createHash('sha256').update(prev).update(payload).digest();
    if (!computed.equals(hash)) throw new Error(`bench log is corrupt at row ${rows + 1}`);
    prev = hash;
    rows++;
  }
  const rate = rows / ((performance.now() - started) / 1000);
  db.close();
  return { rate, rows };
}

/** Audit scenarios of SPEC §8: durable group-commit appends and chain verification. */
export async function benchAudit(options: { verifyRecords?: number } = {}): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-audit-'));
  try {
    const bare = bareInsertRate(dir, 50_000);
    const appended = await auditLogRate(dir, 100_000, 1000);

    const file = join(dir, 'verify.db');
    const store = await openSqliteStore(file);
    const total = options.verifyRecords ?? 500_000;
    for (let i = 0; i < total; i += 10_000) {
      await store.audit.append(Array.from({ length: Math.min(10_000, total - i) }, (_, k) => entry(i + k)));
    }
    const baseline = rehashRate(file);
    const result = await store.audit.verify();
    await store.close();
    if (!result.ok) throw new Error(`bench log failed verification: ${result.firstBad?.message}`);
    const verifyRate = result.records / (result.elapsedMs / 1000);

    return [
      {
        scenario: 'audit',
        metric: 'durable appends (AuditLog, 1000 in flight)',
        value: appended,
        unit: 'records/s',
        baseline: { name: 'bare SQLite, 100 rows/fsync', value: bare },
        target: '≥ 40,000 records/s',
        met: appended >= 40_000,
      },
      {
        scenario: 'audit',
        metric: `verify chain (${result.records.toLocaleString('en-US')} records)`,
        value: verifyRate,
        unit: 'records/s',
        baseline: { name: 'single-thread re-hash', value: baseline.rate },
        target: '≥ 500,000 records/s',
        met: verifyRate >= 500_000,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatRows(await benchAudit()));
}
