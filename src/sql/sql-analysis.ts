import { loadModule, parseSync } from 'libpg-query';

/** What Warden needs to know about a SQL string, from the real PostgreSQL parser. */
export interface SqlAnalysis {
  /** Statement node kinds found anywhere in the tree (`SelectStmt`, `DeleteStmt` inside a CTE, …). */
  kinds: ReadonlySet<string>;
  /** Tables referenced, lowercased, `schema.table` when qualified. CTE names are excluded. */
  tables: readonly string[];
  /** `read`, `write` or `critical` (deletes, DDL, unqualified updates, anything else). */
  class: 'read' | 'write' | 'critical';
  statements: number;
}

let loaded: Promise<void> | undefined;

/** Loads the parser (WebAssembly) once; must complete before `analyzeSql`. */
export function loadSqlParser(): Promise<void> {
  loaded ??= loadModule();
  return loaded;
}

const READ_KINDS = new Set(['SelectStmt']);
const WRITE_KINDS = new Set(['InsertStmt', 'UpdateStmt', 'MergeStmt']);

/** Parses and walks the whole tree. Throws the parser's error for SQL that does not parse. */
export function analyzeSql(sql: string): SqlAnalysis {
  const tree = parseSync(sql) as { stmts?: unknown[] };
  const kinds = new Set<string>();
  const tables = new Set<string>();
  const ctes = new Set<string>();
  let unqualifiedWrite = false;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (node === null || typeof node !== 'object') return;
    const obj = node as Record<string, unknown>;
    if (typeof obj.relname === 'string') {
      const name = obj.relname.toLowerCase();
      tables.add(typeof obj.schemaname === 'string' ? `${obj.schemaname.toLowerCase()}.${name}` : name);
    }
    if (typeof obj.ctename === 'string') ctes.add(obj.ctename.toLowerCase());
    for (const [key, value] of Object.entries(obj)) {
      if (key.endsWith('Stmt') && value !== null && typeof value === 'object') {
        kinds.add(key);
        const stmt = value as Record<string, unknown>;
        if ((key === 'UpdateStmt' || key === 'DeleteStmt') && stmt.whereClause === undefined)
          unqualifiedWrite = true;
      }
      walk(value);
    }
  };
  const statements = tree.stmts ?? [];
  walk(statements);
  for (const cte of ctes) tables.delete(cte);
  let cls: SqlAnalysis['class'] = 'read';
  for (const kind of kinds) {
    if (READ_KINDS.has(kind)) continue;
    if (WRITE_KINDS.has(kind) && cls === 'read') cls = 'write';
    else if (!WRITE_KINDS.has(kind)) cls = 'critical';
  }
  if (unqualifiedWrite) cls = 'critical';
  return { kinds, tables: [...tables], class: cls, statements: statements.length };
}
