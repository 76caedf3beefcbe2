import type { Database, Statement } from 'better-sqlite3';
import { recordFromRow } from '../audit-records.js';
import {
  AggregateBuilder,
  type AuditAggregates,
  type AuditInsights,
  checkWindow,
  type InsightsWindow,
  minuteOf,
  SESSION_RECORDS_DEFAULT,
  type SessionSummary,
} from '../insights.js';
import type { AuditRecord } from '../store.js';

/**
 * Audit rows rolled up per transaction: the event loop gets a turn between chunks, and audit
 * appends wait for one chunk at most (~50 ms on 2 cores) while a large log is caught up.
 */
const CHUNK = 5000;

/** A non-negative number at `path` of the payload `p`, else NULL (`usd` in insights.ts). */
const num = (path: string) =>
  `(CASE WHEN json_type(p, '${path}') IN ('integer', 'real') AND json_extract(p, '${path}') >= 0 THEN json_extract(p, '${path}') END)`;
const text = (path: string) =>
  `(CASE WHEN json_type(p, '${path}') = 'text' AND json_extract(p, '${path}') <> '' THEN json_extract(p, '${path}') END)`;

/** The chunk's rows with what the roll-up reads, each payload parsed once (a connection's temp table). */
// Not keyed by seq: a combined record (decision + result, SPEC §6) is rolled up as two rows.
const CHUNK_TABLE = `CREATE TEMP TABLE IF NOT EXISTS rollup_rows (
  seq INTEGER NOT NULL, minute TEXT, type TEXT, agent TEXT, action_id TEXT, effect TEXT, code TEXT,
  message TEXT, session TEXT, estimate REAL, cost REAL)`;

/**
 * One chunk's roll-up, in order: copy the chunk's rows, by primary key only (`NOT INDEXED`: an
 * index on agent or type would read the whole log), into `rollup_rows`, then add them to the
 * tables of migration 6. The SQL reads a record as insights.ts does (INVARIANT: the conformance
 * case in store/conformance/insight-cases.ts holds both to the same answers).
 */
const ROLL_UP = [
  'DELETE FROM rollup_rows',
  `INSERT INTO rollup_rows
   SELECT seq, substr(json_extract(p, '$.ts'), 1, 16), type, agent, action_id,
     json_extract(p, '$.data.decision.effect'),
     CASE WHEN json_type(p, '$.data.decision.reasons[0].code') = 'text' THEN json_extract(p, '$.data.decision.reasons[0].code') END,
     coalesce(${text('$.data.decision.reasons[0].message')}, ''),
     CASE type WHEN 'decision' THEN ${text('$.data.action.session')} WHEN 'observation' THEN ${text('$.data.session')} END,
     CASE type WHEN 'decision' THEN coalesce(${num('$.data.estimate.usd')}, ${num('$.data.action.cost.usd')}) END,
     CASE type WHEN 'result' THEN coalesce(${num('$.data.actual.usd')}, ${num('$.data.cost.usd')}) END
   FROM (SELECT seq, type, agent, action_id, CAST(payload AS TEXT) AS p FROM audit NOT INDEXED WHERE seq > @lo AND seq <= @hi)
   UNION ALL
   SELECT seq, substr(json_extract(p, '$.ts'), 1, 16), 'result', agent, action_id, NULL, NULL, '', NULL, NULL,
     coalesce(${num('$.data.result.actual.usd')}, ${num('$.data.result.cost.usd')})
   FROM (SELECT seq, agent, action_id, CAST(payload AS TEXT) AS p FROM audit NOT INDEXED WHERE seq > @lo AND seq <= @hi AND type = 'decision')
   WHERE json_type(p, '$.data.result') = 'object'`,
  // What later records of the action need: its session and, unless denied, its estimate.
  `INSERT INTO audit_action_facts (agent, action_id, session, estimate)
   SELECT agent, action_id, session, CASE WHEN effect = 'deny' THEN NULL ELSE estimate END FROM rollup_rows
   WHERE type = 'decision' AND agent IS NOT NULL AND action_id IS NOT NULL ORDER BY seq
   ON CONFLICT (agent, action_id) DO UPDATE SET estimate = excluded.estimate, session = coalesce(excluded.session, session)`,
  `INSERT INTO audit_minutes (minute, agent, allow, ask, deny)
   SELECT minute, coalesce(agent, ''), sum(effect = 'allow'), sum(effect = 'ask'), sum(effect = 'deny') FROM rollup_rows
   WHERE type = 'decision' AND effect IN ('allow', 'ask', 'deny') GROUP BY minute, coalesce(agent, '')
   ON CONFLICT (minute, agent) DO UPDATE SET allow = allow + excluded.allow, ask = ask + excluded.ask, deny = deny + excluded.deny`,
  `INSERT INTO audit_minutes (minute, agent, usd)
   SELECT minute, agent, sum(c) FROM (
     SELECT r.minute, r.agent, coalesce(r.cost, f.estimate) AS c FROM rollup_rows AS r
     LEFT JOIN audit_action_facts AS f ON f.agent = r.agent AND f.action_id = r.action_id
     WHERE r.type = 'result' AND r.agent IS NOT NULL
   ) WHERE c > 0 GROUP BY minute, agent
   ON CONFLICT (minute, agent) DO UPDATE SET usd = usd + excluded.usd`,
  `INSERT INTO audit_reasons (minute, effect, code, n, message, last_seq)
   SELECT minute, effect, code, count(*), message, max(seq) FROM rollup_rows
   WHERE type = 'decision' AND effect IN ('deny', 'ask') AND code IS NOT NULL GROUP BY minute, effect, code
   ON CONFLICT (minute, effect, code) DO UPDATE SET n = n + excluded.n,
     message = CASE WHEN excluded.last_seq > last_seq THEN excluded.message ELSE message END,
     last_seq = max(last_seq, excluded.last_seq)`,
  `INSERT OR IGNORE INTO audit_session_records (agent, session, seq)
   SELECT r.agent, coalesce(r.session, f.session), r.seq FROM rollup_rows AS r
   LEFT JOIN audit_action_facts AS f ON f.agent = r.agent AND f.action_id = r.action_id
   WHERE r.agent IS NOT NULL AND coalesce(r.session, f.session) IS NOT NULL`,
];

/**
 * The dashboard's aggregates from roll-up tables (migration 6), not from the audit rows: a read
 * first rolls up what was appended since the last one (in chunks, so the event loop keeps
 * deciding), then reads at most a few thousand rows. Appends pay nothing for it. Several
 * processes may share the file: each chunk is one immediate transaction that re-reads the mark.
 */
export class SqliteInsights implements AuditInsights {
  readonly #db: Database;
  readonly #steps: (readonly [Statement, boolean])[];
  #running: Promise<void> | undefined;

  constructor(db: Database) {
    this.#db = db;
    db.exec(CHUNK_TABLE);
    this.#steps = ROLL_UP.map((sql) => [db.prepare(sql), sql.includes('@lo')] as const);
  }

  /** Rolls up every record appended so far (one caller at a time in this process). */
  catchUp(): Promise<void> {
    this.#running ??= this.#catchUp().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #catchUp(): Promise<void> {
    const mark = this.#db.prepare('SELECT rolled_up FROM audit_rollup_state WHERE id = 1').pluck();
    const head = this.#db.prepare('SELECT coalesce(max(seq), 0) FROM audit').pluck();
    const save = this.#db.prepare('UPDATE audit_rollup_state SET rolled_up = ? WHERE id = 1');
    const chunk = this.#db.transaction(() => {
      const lo = mark.get() as number;
      const last = head.get() as number;
      const hi = Math.min(last, lo + CHUNK);
      if (hi <= lo) return false;
      for (const [step, ranged] of this.#steps) {
        if (ranged) step.run({ lo, hi });
        else step.run();
      }
      save.run(hi);
      return hi < last;
    });
    while (chunk.immediate()) await new Promise((r) => setImmediate(r));
  }

  async aggregates(window: InsightsWindow): Promise<AuditAggregates> {
    checkWindow(window);
    await this.catchUp();
    const range = { from: minuteOf(window.since), to: minuteOf(window.until) };
    const out = new AggregateBuilder(window);
    const minutes = this.#db
      .prepare(
        'SELECT minute, agent, allow, ask, deny, usd FROM audit_minutes WHERE minute >= @from AND minute < @to',
      )
      .raw()
      .all(range) as [string, string, number, number, number, number][];
    for (const [minute, agent, allow, ask, deny, usd] of minutes) {
      out.decisions(minute, 'allow', allow);
      out.decisions(minute, 'ask', ask);
      out.decisions(minute, 'deny', deny);
      if (agent !== '') out.spend(minute, agent, usd);
    }
    const reasons = this.#db
      .prepare(
        `SELECT effect, code, sum(n), message, max(last_seq) FROM audit_reasons
         WHERE minute >= @from AND minute < @to GROUP BY effect, code`,
      )
      .raw()
      .all(range) as [string, string, number, string, number][];
    for (const [effect, code, n, message, seq] of reasons) out.reason(effect, code, n, message, seq);
    const built = out.build();
    // A minute rolled up with only spend has no decisions: drop its empty bucket.
    built.decisions = built.decisions.filter((b) => b.allow + b.ask + b.deny > 0);
    return built;
  }

  async sessions(agent: string, limit = 100): Promise<SessionSummary[]> {
    await this.catchUp();
    const found = this.#db
      .prepare(
        `SELECT session, count(*), min(seq), max(seq) FROM audit_session_records WHERE agent = ?
         GROUP BY session ORDER BY max(seq) DESC LIMIT ?`,
      )
      .raw()
      .all(agent, limit) as [string, number, number, number][];
    const tsOf = this.#db
      .prepare("SELECT json_extract(CAST(payload AS TEXT), '$.ts') FROM audit WHERE seq = ?")
      .pluck();
    return found.map(([session, records, first, last]) => ({
      session,
      records,
      firstTs: tsOf.get(first) as string,
      lastTs: tsOf.get(last) as string,
    }));
  }

  async sessionRecords(
    agent: string,
    session: string,
    limit = SESSION_RECORDS_DEFAULT,
  ): Promise<AuditRecord[]> {
    await this.catchUp();
    const found = this.#db
      .prepare(
        `SELECT a.payload, a.hash FROM audit_session_records AS s JOIN audit AS a ON a.seq = s.seq
         WHERE s.agent = ? AND s.session = ? ORDER BY s.seq LIMIT ?`,
      )
      .raw()
      .all(agent, session, Math.min(limit, 10_000)) as [Buffer, Buffer][];
    return found.map(([payload, hash]) => recordFromRow(payload, hash));
  }
}
