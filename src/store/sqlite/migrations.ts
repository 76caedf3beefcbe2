import type { Database } from 'better-sqlite3';

/**
 * Schema steps, applied in order; never edit a step that has shipped, add the next one.
 * The version lives in `PRAGMA user_version`.
 */
export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    // Query columns are generated from the payload, so they can never disagree with what is hashed.
    sql: `
      CREATE TABLE audit (
        seq INTEGER PRIMARY KEY,
        hash BLOB NOT NULL,
        payload BLOB NOT NULL,
        type TEXT GENERATED ALWAYS AS (json_extract(CAST(payload AS TEXT), '$.type')) VIRTUAL,
        agent TEXT GENERATED ALWAYS AS (json_extract(CAST(payload AS TEXT), '$.agent')) VIRTUAL,
        action_id TEXT GENERATED ALWAYS AS (json_extract(CAST(payload AS TEXT), '$.actionId')) VIRTUAL
      );
      CREATE INDEX audit_type ON audit (type, seq);
      CREATE INDEX audit_agent ON audit (agent, seq) WHERE agent IS NOT NULL;
      CREATE INDEX audit_action ON audit (action_id, seq) WHERE action_id IS NOT NULL;
      CREATE TABLE kills (agent TEXT PRIMARY KEY, reason TEXT NOT NULL, by TEXT NOT NULL, at TEXT NOT NULL);
      CREATE TABLE approvals (
        id TEXT PRIMARY KEY,
        status TEXT NOT NULL,
        created_at TEXT NOT NULL,
        record TEXT NOT NULL
      );
      CREATE INDEX approvals_status ON approvals (status, created_at);
      CREATE TABLE actions (id TEXT PRIMARY KEY, record TEXT NOT NULL);
    `,
  },
  {
    version: 2,
    // MCP gateway: the approved (and any pending) definition of each upstream tool.
    sql: `
      CREATE TABLE mcp_pins (
        server TEXT NOT NULL,
        tool TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (server, tool)
      );
    `,
  },
  {
    version: 3,
    // Limit counters (src/limits/backends/sqlite-backend.ts): one JSON document per key.
    sql: `
      CREATE TABLE limit_state (key TEXT PRIMARY KEY, doc TEXT NOT NULL, exp INTEGER NOT NULL);
      CREATE INDEX limit_state_exp ON limit_state (exp);
    `,
  },
  {
    version: 4,
    // The alert outbox (src/monitor/alerts): one row per alert per sink, kept after delivery.
    sql: `
      CREATE TABLE alerts (id TEXT PRIMARY KEY, status TEXT NOT NULL, next_at INTEGER NOT NULL, record TEXT NOT NULL);
      CREATE INDEX alerts_due ON alerts (status, next_at);
    `,
  },
  {
    version: 5,
    // Actions are keyed by agent and id: a client-chosen id is scoped to the agent that chose it.
    // `status` is a column so a kill can find the agent's allowed, unreported actions.
    sql: `
      CREATE TABLE actions_v5 (
        agent TEXT NOT NULL,
        id TEXT NOT NULL,
        status TEXT NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (agent, id)
      );
      INSERT INTO actions_v5 (agent, id, status, record)
        SELECT json_extract(record, '$.agent'), id, json_extract(record, '$.status'), record FROM actions;
      DROP TABLE actions;
      ALTER TABLE actions_v5 RENAME TO actions;
      CREATE INDEX actions_id ON actions (id);
      CREATE INDEX actions_status ON actions (status, agent);
    `,
  },
  {
    version: 6,
    // Observations (SPEC §2b): what each session has read, as digests, findings and value hashes.
    sql: `
      CREATE TABLE IF NOT EXISTS observations (
        seq INTEGER PRIMARY KEY,
        agent TEXT NOT NULL,
        session TEXT NOT NULL,
        record TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS observations_session ON observations (agent, session, seq);
    `,
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION: number = MIGRATIONS.at(-1)?.version ?? 0;

/**
 * Brings `db` up to {@link SCHEMA_VERSION} in one immediate transaction, so two processes opening
 * the same new file cannot both migrate it. Refuses a file written by newer code.
 */
export function migrate(db: Database, file: string): void {
  db.transaction(() => {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (current > SCHEMA_VERSION) {
      throw new Error(
        `store \`${file}\` has schema version ${current} but this Warden knows only up to ${SCHEMA_VERSION}: upgrade Warden, or point it at another file`,
      );
    }
    for (const step of MIGRATIONS) {
      if (step.version <= current) continue;
      db.exec(step.sql);
      db.pragma(`user_version = ${step.version}`);
    }
  }).immediate();
}
