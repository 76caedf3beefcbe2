import type { PgClient } from './pg-client.js';

/**
 * Schema steps for the PostgreSQL store, applied in order; never edit a step that has shipped, add
 * the next one. The version lives in `warden_schema`. This numbering is the PostgreSQL store's
 * own: it does not follow the SQLite store's.
 */
export const PG_MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      -- The audit chain. Query columns are written from the same entry the payload is built
      -- from; the payload alone is hashed and verified.
      CREATE TABLE audit (
        seq bigint PRIMARY KEY,
        hash bytea NOT NULL,
        payload bytea NOT NULL,
        type text NOT NULL,
        agent text,
        action_id text
      );
      CREATE INDEX audit_type ON audit (type, seq);
      CREATE INDEX audit_agent ON audit (agent, seq) WHERE agent IS NOT NULL;
      CREATE INDEX audit_action ON audit (action_id, seq) WHERE action_id IS NOT NULL;
      -- The chain head: one row, locked by every append, so appenders on every server extend one
      -- chain in one order. Also an anchor: a head beyond the last stored record is a cut tail.
      CREATE TABLE audit_head (one boolean PRIMARY KEY DEFAULT true CHECK (one), seq bigint NOT NULL, hash bytea NOT NULL);
      INSERT INTO audit_head (seq, hash) VALUES (0, '\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
      CREATE TABLE kills (agent text PRIMARY KEY, reason text NOT NULL, by text NOT NULL, at text NOT NULL);
      CREATE TABLE approvals (id text PRIMARY KEY, status text NOT NULL, created_at text NOT NULL, record text NOT NULL);
      CREATE INDEX approvals_status ON approvals (status, created_at);
      CREATE TABLE actions (
        agent text NOT NULL,
        id text NOT NULL,
        n bigserial NOT NULL,
        status text NOT NULL,
        record text NOT NULL,
        PRIMARY KEY (agent, id)
      );
      CREATE INDEX actions_id ON actions (id, n);
      CREATE INDEX actions_status ON actions (status, agent, n);
      CREATE TABLE mcp_pins (server text NOT NULL, tool text NOT NULL, record text NOT NULL, PRIMARY KEY (server, tool));
      CREATE TABLE alerts (id text PRIMARY KEY, n bigserial NOT NULL, status text NOT NULL, next_at bigint NOT NULL, record text NOT NULL);
      CREATE INDEX alerts_due ON alerts (status, next_at, id);
      -- Bearer tokens: only their SHA-256 is stored.
      CREATE TABLE tokens (
        hash text PRIMARY KEY,
        name text NOT NULL,
        role text NOT NULL,
        agent text,
        created_at text NOT NULL,
        revoked_at text
      );
      -- Signed checkpoints of the audit head (also appended to the chain as records).
      CREATE TABLE checkpoints (seq bigint PRIMARY KEY, record text NOT NULL);
    `,
  },
  {
    version: 2,
    sql: `
      -- Observations (SPEC §2b): what each session read, one JSON record per row. Agent and
      -- session are kept as bytes: text columns cannot hold a NUL, which a session id may.
      CREATE TABLE observations (
        seq bigserial PRIMARY KEY,
        agent bytea NOT NULL,
        session bytea NOT NULL,
        record text NOT NULL
      );
      CREATE INDEX observations_session ON observations (agent, session, seq);
    `,
  },
  {
    version: 3,
    sql: `
      -- One round trip per audit commit (SPEC §8): the caller hashes its batch from the head it
      -- last saw and sends the rows as they will be stored, packed: every hash in one bytea (32
      -- bytes each), every payload in another (row i at offs[i], lens[i] bytes long), so no row
      -- goes through bytea[] text escaping. Under the head's row lock, a head that is still the
      -- expected one takes the rows as sent (fast path); a head another server moved meanwhile
      -- gets the batch re-linked here, from the real head: each payload is the same bytes with
      -- the seq digits at offset seq_at replaced (composePayload writes "seq":N at one place),
      -- and hash_n = sha256(hash_{n-1} || payload_n), the rule every store follows.
      -- Returns the first seq, and the hashes (packed) when they are not the ones sent, else null.
      CREATE FUNCTION audit_append(
        expected_seq bigint, expected_hash bytea, hashes bytea, payloads bytea, offs int[],
        lens int[], seq_at int[], types text[], agents text[], action_ids text[],
        OUT first_seq bigint, OUT relinked bytea
      ) LANGUAGE plpgsql AS $fn$
      DECLARE
        head_seq bigint;
        head_hash bytea;
        n int := cardinality(offs);
        h bytea;
        p bytea;
        digits int;
        ps bytea[];
        hs bytea[];
      BEGIN
        SELECT seq, hash INTO head_seq, head_hash FROM audit_head FOR UPDATE;
        IF head_seq = expected_seq AND head_hash = expected_hash THEN
          INSERT INTO audit (seq, hash, payload, type, agent, action_id)
            SELECT head_seq + r.o, substring(hashes FROM r.o::int * 32 - 31 FOR 32),
                   substring(payloads FROM r.off + 1 FOR r.len), r.t, r.a, r.i
            FROM unnest(offs, lens, types, agents, action_ids) WITH ORDINALITY AS r(off, len, t, a, i, o);
          UPDATE audit_head SET seq = head_seq + n, hash = substring(hashes FROM n * 32 - 31 FOR 32);
        ELSE
          h := head_hash;
          relinked := ''::bytea;
          FOR i IN 1..n LOOP
            digits := length((expected_seq + i)::text);
            p := substring(payloads FROM offs[i] + 1 FOR seq_at[i])
              || convert_to((head_seq + i)::text, 'UTF8')
              || substring(payloads FROM offs[i] + seq_at[i] + digits + 1 FOR lens[i] - seq_at[i] - digits);
            h := sha256(h || p);
            ps[i] := p;
            hs[i] := h;
            relinked := relinked || h;
          END LOOP;
          INSERT INTO audit (seq, hash, payload, type, agent, action_id)
            SELECT head_seq + r.o, r.h, r.p, r.t, r.a, r.i
            FROM unnest(hs, ps, types, agents, action_ids) WITH ORDINALITY AS r(h, p, t, a, i, o);
          UPDATE audit_head SET seq = head_seq + n, hash = h;
        END IF;
        first_seq := head_seq + 1;
      END
      $fn$;
    `,
  },
  {
    version: 4,
    sql: `
      -- The dashboard's rollups of the audit (pg-insights.ts), as the SQLite store's migration 6:
      -- filled from rolled_up onward when read, so appends pay nothing. Text columns hold the
      -- query columns' spelling (NUL as U+FFFD).
      CREATE TABLE audit_rollup_state (one boolean PRIMARY KEY DEFAULT true CHECK (one), rolled_up bigint NOT NULL);
      INSERT INTO audit_rollup_state (rolled_up) VALUES (0);
      CREATE TABLE audit_minutes (
        minute text NOT NULL,
        agent text NOT NULL,
        allow bigint NOT NULL DEFAULT 0,
        ask bigint NOT NULL DEFAULT 0,
        deny bigint NOT NULL DEFAULT 0,
        usd double precision NOT NULL DEFAULT 0,
        PRIMARY KEY (minute, agent)
      );
      CREATE TABLE audit_reasons (
        minute text NOT NULL,
        effect text NOT NULL,
        code text NOT NULL,
        n bigint NOT NULL,
        message text NOT NULL,
        last_seq bigint NOT NULL,
        PRIMARY KEY (minute, effect, code)
      );
      CREATE TABLE audit_action_facts (
        agent text NOT NULL,
        action_id text NOT NULL,
        session text,
        estimate double precision,
        PRIMARY KEY (agent, action_id)
      );
      CREATE TABLE audit_session_records (
        agent text NOT NULL,
        session text NOT NULL,
        seq bigint NOT NULL,
        PRIMARY KEY (agent, session, seq)
      );
    `,
  },
];

/** The schema version this code writes. */
export const PG_SCHEMA_VERSION: number = PG_MIGRATIONS.at(-1)?.version ?? 0;

/**
 * Brings the store's schema up to {@link PG_SCHEMA_VERSION} in one transaction under an advisory
 * lock, so servers starting together migrate it once. Refuses a schema written by newer code.
 */
export async function migratePg(client: PgClient): Promise<void> {
  await client.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`warden.migrate.${client.schema}`]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS "${client.schema}"`);
    await tx.query(`CREATE TABLE IF NOT EXISTS "${client.schema}".warden_schema (version int NOT NULL)`);
    const [row] = await tx.query<{ version: number }>(
      `SELECT max(version) AS version FROM "${client.schema}".warden_schema`,
    );
    const current = row?.version ?? 0;
    if (current > PG_SCHEMA_VERSION) {
      throw new Error(
        `PostgreSQL schema \`${client.schema}\` has version ${current} but this Warden knows only up to ${PG_SCHEMA_VERSION}: upgrade Warden, or point it at another schema`,
      );
    }
    for (const step of PG_MIGRATIONS) {
      if (step.version <= current) continue;
      // Unnamed: a migration runs once, and holds several statements.
      await tx.query(`SET LOCAL search_path = "${client.schema}"`);
      await tx.exec(step.sql);
      await tx.query(`INSERT INTO "${client.schema}".warden_schema (version) VALUES ($1)`, [step.version]);
    }
  });
}
