/** Statement classes, from harmless to worst. */
export const SQL_CLASSES = ['read', 'write', 'ddl', 'destructive', 'admin'] as const;
export type SqlClass = (typeof SQL_CLASSES)[number];

/** The SQL dialect of the database a query is meant for. */
export type SqlDialect = 'postgres' | 'sqlite';

/** Something inside the SQL that is dangerous whatever the policy's operation lists say. */
export interface SqlFinding {
  /** Stable reason code, e.g. `sql.copy-program`, `sql.dangerous-function`. */
  code: string;
  message: string;
}

/** One operation on one table (`delete` on `users`); `table` is lowercased, `schema.table` when qualified. */
export interface SqlOperation {
  op: string;
  table?: string;
}

/** What Warden needs to know about a SQL string, from the real PostgreSQL parser. */
export interface SqlAnalysis {
  /** Statement node kinds found anywhere in the tree (`SelectStmt`, `DeleteStmt` inside a CTE, …). */
  kinds: ReadonlySet<string>;
  /** Tables referenced, lowercased, `schema.table` when qualified. CTE names are excluded. */
  tables: readonly string[];
  /** `read`, `write` or `critical` (deletes, DDL, unqualified updates, anything else). */
  class: 'read' | 'write' | 'critical';
  /** The worst class of any statement: read < write < ddl < destructive < admin. */
  worst: SqlClass;
  statements: number;
  /** Operations by keyword (`select`, `insert`, `drop`, `pragma`, …) with the table they touch. */
  operations: readonly SqlOperation[];
  /** Functions called anywhere, lowercased, last name part (`pg_read_file`). */
  functions: ReadonlySet<string>;
  /** Dangerous constructs (admin class). */
  findings: readonly SqlFinding[];
  /** `DELETE FROM users`, `UPDATE t`: writes whose WHERE does not narrow (missing, constant, `OR 1=1`). */
  unnarrowed: readonly string[];
  /** `ALTER TABLE t DROP COLUMN a`: schema changes that destroy stored values (optional for older callers). */
  destroying?: readonly string[];
}

/** What the walk collects; shared with nested bodies (SQL functions, DO blocks). */
export interface Collector {
  kinds: Set<string>;
  tables: Set<string>;
  operations: SqlOperation[];
  functions: Set<string>;
  findings: SqlFinding[];
  unnarrowed: string[];
  destroying: string[];
  worst: SqlClass;
  depth: number;
}

/** Walks one SQL string into a collector (`walkSql`); passed to the body analysis, which recurses. */
export type WalkSql = (sql: string, c: Collector) => number;
