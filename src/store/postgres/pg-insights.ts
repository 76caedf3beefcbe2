import { recordFromRow } from '../audit-records.js';
import {
  AggregateBuilder,
  type AuditAggregates,
  type AuditInsights,
  checkWindow,
  estimateOf,
  firstReasonOf,
  type InsightsWindow,
  minuteOf,
  resultCostOf,
  SESSION_RECORDS_DEFAULT,
  type SessionSummary,
  sessionOf,
} from '../insights.js';
import type { AuditRecord } from '../store.js';
import type { PgClient, Tx } from './pg-client.js';

/** Audit rows rolled up per transaction: appends never wait on it (it locks only its own mark). */
const CHUNK = 5000;

/** What later records of an action need from its decision. */
interface Fact {
  agent: string;
  actionId: string;
  session: string | null;
  estimate: number | null;
}

/**
 * The dashboard's aggregates from roll-up tables (PG migration 4), not from the audit rows: a read
 * first rolls up what was appended since the last one, then reads at most a few thousand rows.
 * Records are read as the scan in insights.ts reads them, with its own functions (so both give the
 * same answers: the conformance cases in store/conformance/insight-cases.ts hold them to it).
 * Several servers may roll up at once: each chunk is one transaction holding the mark's row lock,
 * and the chain's committed records always form a prefix of seqs (the head lock), so a mark never
 * skips a record committed later.
 */
export class PgInsights implements AuditInsights {
  readonly #pg: PgClient;
  #running: Promise<void> | undefined;

  constructor(pg: PgClient) {
    this.#pg = pg;
  }

  /** Rolls up every record appended so far (one caller at a time in this process). */
  catchUp(): Promise<void> {
    this.#running ??= this.#catchUp().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #catchUp(): Promise<void> {
    while (await this.#pg.transaction((tx) => this.#chunk(tx))) {
      // Next chunk, in its own transaction.
    }
  }

  /** Rolls up the next chunk; true when there may be more. */
  async #chunk(tx: Tx): Promise<boolean> {
    const [state] = await tx.query<{ rolled_up: string }>(
      'SELECT rolled_up FROM audit_rollup_state FOR UPDATE',
    );
    const rows = await tx.query<{ payload: Buffer; hash: Buffer }>(
      'SELECT payload, hash FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2',
      [Number(state?.rolled_up ?? 0), CHUNK],
    );
    if (rows.length === 0) return false;
    const records = rows.map((r) => recordFromRow(r.payload, r.hash));
    const facts = await loadFacts(tx, records);
    const minutes = new Map<string, { minute: string; agent: string; n: number[]; usd: number }>();
    const reasons = new Map<string, { key: string[]; n: number; message: string; seq: number }>();
    const sessions: string[][] = [[], [], []];
    const minute = (m: string, agent: string) => {
      const key = `${m}\u0000${agent}`;
      const row = minutes.get(key) ?? { minute: m, agent, n: [0, 0, 0], usd: 0 };
      minutes.set(key, row);
      return row;
    };
    for (const r of records) {
      const at = minuteOf(r.ts);
      const fact =
        r.agent !== undefined && r.actionId !== undefined ? factKey(r.agent, r.actionId) : undefined;
      if (r.type === 'decision') {
        const { effect, code, message } = firstReasonOf(r.data);
        if (fact !== undefined) {
          const was = facts.get(fact);
          facts.set(fact, {
            agent: r.agent as string,
            actionId: r.actionId as string,
            session: sessionOf(r) ?? was?.session ?? null,
            estimate: effect === 'deny' ? null : (estimateOf(r.data) ?? null),
          });
        }
        const i = ['allow', 'ask', 'deny'].indexOf(effect);
        if (i >= 0) (minute(at, r.agent ?? '').n[i] as number)++;
        if ((effect === 'deny' || effect === 'ask') && code !== undefined) {
          const key = [at, effect, code];
          const k = key.join('\u0000');
          const found = reasons.get(k) ?? { key, n: 0, message: '', seq: 0 };
          reasons.set(k, Object.assign(found, { n: found.n + 1, message: message ?? '', seq: r.seq }));
        }
      } else if (r.type === 'result' && r.agent !== undefined) {
        const estimate = fact === undefined ? undefined : (facts.get(fact)?.estimate ?? undefined);
        const cost = resultCostOf(r.data, estimate) ?? 0;
        if (cost > 0) minute(at, r.agent).usd += cost;
      }
      const session =
        sessionOf(r) ?? (fact === undefined ? undefined : (facts.get(fact)?.session ?? undefined));
      if (r.agent !== undefined && session !== undefined) {
        sessions[0]?.push(r.agent);
        sessions[1]?.push(session);
        sessions[2]?.push(String(r.seq));
      }
    }
    await saveFacts(tx, facts);
    const m = [...minutes.values()];
    await tx.query(
      `INSERT INTO audit_minutes (minute, agent, allow, ask, deny, usd)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::float8[])
       ON CONFLICT (minute, agent) DO UPDATE SET allow = audit_minutes.allow + excluded.allow,
         ask = audit_minutes.ask + excluded.ask, deny = audit_minutes.deny + excluded.deny,
         usd = audit_minutes.usd + excluded.usd`,
      [
        m.map((x) => text(x.minute)),
        m.map((x) => text(x.agent)),
        m.map((x) => x.n[0]),
        m.map((x) => x.n[1]),
        m.map((x) => x.n[2]),
        m.map((x) => x.usd),
      ],
    );
    const rs = [...reasons.values()];
    await tx.query(
      `INSERT INTO audit_reasons (minute, effect, code, n, message, last_seq)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[])
       ON CONFLICT (minute, effect, code) DO UPDATE SET n = audit_reasons.n + excluded.n,
         message = CASE WHEN excluded.last_seq > audit_reasons.last_seq THEN excluded.message ELSE audit_reasons.message END,
         last_seq = greatest(audit_reasons.last_seq, excluded.last_seq)`,
      [
        rs.map((x) => text(x.key[0] as string)),
        rs.map((x) => text(x.key[1] as string)),
        rs.map((x) => text(x.key[2] as string)),
        rs.map((x) => x.n),
        rs.map((x) => text(x.message)),
        rs.map((x) => x.seq),
      ],
    );
    await tx.query(
      `INSERT INTO audit_session_records (agent, session, seq)
       SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT DO NOTHING`,
      [(sessions[0] ?? []).map(text), (sessions[1] ?? []).map(text), sessions[2]],
    );
    await tx.query('UPDATE audit_rollup_state SET rolled_up = $1', [records.at(-1)?.seq]);
    return rows.length === CHUNK;
  }

  async aggregates(window: InsightsWindow): Promise<AuditAggregates> {
    checkWindow(window);
    await this.catchUp();
    const range = [minuteOf(window.since), minuteOf(window.until)];
    const out = new AggregateBuilder(window);
    const minutes = await this.#pg.query<{
      minute: string;
      agent: string;
      allow: string;
      ask: string;
      deny: string;
      usd: number;
    }>(
      'SELECT minute, agent, allow, ask, deny, usd FROM audit_minutes WHERE minute >= $1 AND minute < $2',
      range,
    );
    for (const r of minutes) {
      out.decisions(r.minute, 'allow', Number(r.allow));
      out.decisions(r.minute, 'ask', Number(r.ask));
      out.decisions(r.minute, 'deny', Number(r.deny));
      if (r.agent !== '') out.spend(r.minute, r.agent, r.usd);
    }
    const reasons = await this.#pg.query<{
      effect: string;
      code: string;
      n: string;
      message: string;
      seq: string;
    }>(
      `SELECT effect, code, sum(n) AS n, (array_agg(message ORDER BY last_seq DESC))[1] AS message,
         max(last_seq) AS seq
       FROM audit_reasons WHERE minute >= $1 AND minute < $2 GROUP BY effect, code`,
      range,
    );
    for (const r of reasons) out.reason(r.effect, r.code, Number(r.n), r.message, Number(r.seq));
    const built = out.build();
    // A minute rolled up with only spend has no decisions: drop its empty bucket.
    built.decisions = built.decisions.filter((b) => b.allow + b.ask + b.deny > 0);
    return built;
  }

  async sessions(agent: string, limit = 100): Promise<SessionSummary[]> {
    await this.catchUp();
    const found = await this.#pg.query<{ session: string; n: string; first: string; last: string }>(
      `SELECT session, count(*) AS n, min(seq) AS first, max(seq) AS last FROM audit_session_records
       WHERE agent = $1 GROUP BY session ORDER BY max(seq) DESC LIMIT $2`,
      [text(agent), limit],
    );
    const seqs = found.flatMap((s) => [s.first, s.last]);
    const rows = await this.#pg.query<{ seq: string; payload: Buffer; hash: Buffer }>(
      'SELECT seq, payload, hash FROM audit WHERE seq = ANY($1::bigint[])',
      [seqs],
    );
    const tsOf = new Map(rows.map((r) => [r.seq, recordFromRow(r.payload, r.hash).ts]));
    return found.map((s) => ({
      session: s.session,
      records: Number(s.n),
      firstTs: tsOf.get(s.first) as string,
      lastTs: tsOf.get(s.last) as string,
    }));
  }

  async sessionRecords(
    agent: string,
    session: string,
    limit = SESSION_RECORDS_DEFAULT,
  ): Promise<AuditRecord[]> {
    await this.catchUp();
    const rows = await this.#pg.query<{ payload: Buffer; hash: Buffer }>(
      `SELECT a.payload, a.hash FROM audit_session_records AS s JOIN audit AS a ON a.seq = s.seq
       WHERE s.agent = $1 AND s.session = $2 ORDER BY s.seq LIMIT $3`,
      [text(agent), text(session), Math.min(limit, 10_000)],
    );
    return rows.map((r) => recordFromRow(r.payload, r.hash));
  }
}

const factKey = (agent: string, actionId: string) => `${agent}\u0000${actionId}`;

/** The facts already rolled up for the actions these records name. */
async function loadFacts(tx: Tx, records: readonly AuditRecord[]): Promise<Map<string, Fact>> {
  const wanted = new Map<string, [string, string]>();
  for (const r of records) {
    if (r.agent !== undefined && r.actionId !== undefined)
      wanted.set(factKey(r.agent, r.actionId), [r.agent, r.actionId]);
  }
  const facts = new Map<string, Fact>();
  if (wanted.size === 0) return facts;
  const keys = [...wanted.entries()];
  const rows = await tx.query<{ i: string; session: string | null; estimate: number | null }>(
    `SELECT k.i, f.session, f.estimate
     FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS k(agent, action_id, i)
     JOIN audit_action_facts AS f USING (agent, action_id)`,
    [keys.map(([, [agent]]) => text(agent)), keys.map(([, [, id]]) => text(id))],
  );
  for (const row of rows) {
    const [key, [agent, actionId]] = keys[Number(row.i) - 1] as [string, [string, string]];
    facts.set(key, { agent, actionId, session: row.session, estimate: row.estimate });
  }
  return facts;
}

async function saveFacts(tx: Tx, facts: Map<string, Fact>): Promise<void> {
  const all = [...facts.values()];
  if (all.length === 0) return;
  await tx.query(
    `INSERT INTO audit_action_facts (agent, action_id, session, estimate)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[])
     ON CONFLICT (agent, action_id) DO UPDATE SET session = excluded.session, estimate = excluded.estimate`,
    [
      all.map((f) => text(f.agent)),
      all.map((f) => text(f.actionId)),
      all.map((f) => (f.session === null ? null : text(f.session))),
      all.map((f) => f.estimate),
    ],
  );
}

/** PostgreSQL text cannot hold NUL: as the audit's query columns, NUL becomes U+FFFD. */
function text(value: string): string {
  return value.replaceAll('\0', '\uFFFD');
}
