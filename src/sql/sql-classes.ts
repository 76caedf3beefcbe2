// One file because the statement-kind tables and the classifier reading them change together.
import type { SqlClass, SqlFinding } from './sql-types.js';

export { SQL_CLASSES, type SqlClass } from './sql-types.js';

import { narrows } from './sql-where.js';

const RANK: Record<SqlClass, number> = { read: 0, write: 1, ddl: 2, destructive: 3, admin: 4 };

export function worseClass(a: SqlClass, b: SqlClass): SqlClass {
  return RANK[a] >= RANK[b] ? a : b;
}

type Node = Record<string, unknown>;

/** A nested body to analyse: the SQL of a `LANGUAGE sql` function, or PL/pgSQL (function or DO). */
export type Body = { language: 'sql'; source: string } | { language: 'plpgsql'; source: 'statement' };

export interface Verdict {
  class: SqlClass;
  /** The operation keyword (`delete`, `drop`); undefined for pure containers. */
  op?: string;
  /** RangeVar nodes this statement writes (their op is `op`). */
  targets: object[];
  /** Tables named without a RangeVar (DROP TABLE lists). */
  namedTargets: string[];
  finding?: SqlFinding;
  unnarrowed?: string;
  /** What a schema change destroys (`ALTER TABLE t DROP COLUMN a`). */
  destroys?: string;
  body?: Body;
}

const READ: Record<string, string> = {
  SelectStmt: 'select',
  VariableShowStmt: 'show',
  DeclareCursorStmt: 'select',
  FetchStmt: 'select',
  ClosePortalStmt: 'select',
  ExplainStmt: 'explain',
};

/** DDL kinds by operation. Anything not listed anywhere is treated as admin (fail closed). */
const DDL: Record<string, string> = {
  CreateStmt: 'create',
  CreateTableAsStmt: 'create',
  ViewStmt: 'create',
  IndexStmt: 'create',
  CreateSeqStmt: 'create',
  CreateSchemaStmt: 'create',
  CreateEnumStmt: 'create',
  CompositeTypeStmt: 'create',
  CreateDomainStmt: 'create',
  CreateTrigStmt: 'create',
  RuleStmt: 'create',
  CreateFunctionStmt: 'create',
  AlterTableStmt: 'alter',
  AlterSeqStmt: 'alter',
  AlterEnumStmt: 'alter',
  AlterDomainStmt: 'alter',
  AlterFunctionStmt: 'alter',
  RenameStmt: 'alter',
  CommentStmt: 'comment',
  RefreshMatViewStmt: 'refresh',
};

const ADMIN_FINDINGS: Record<string, SqlFinding> = {
  AlterSystemStmt: { code: 'sql.admin', message: '`ALTER SYSTEM` changes the server configuration' },
  LoadStmt: { code: 'sql.admin', message: '`LOAD` loads a shared library into the server' },
  DoStmt: { code: 'sql.do-block', message: 'a `DO` block runs procedural code' },
  CreateExtensionStmt: { code: 'sql.admin', message: '`CREATE EXTENSION` installs server code' },
  CreateRoleStmt: { code: 'sql.admin', message: 'roles are administered by humans' },
  AlterRoleStmt: { code: 'sql.admin', message: 'roles are administered by humans' },
  DropRoleStmt: { code: 'sql.admin', message: 'roles are administered by humans' },
  GrantRoleStmt: { code: 'sql.admin', message: 'roles are administered by humans' },
  GrantStmt: { code: 'sql.admin', message: '`GRANT`/`REVOKE` changes privileges' },
  TransactionStmt: {
    code: 'sql.transaction-control',
    message:
      'transaction control (`BEGIN`, `COMMIT`, …) belongs to the executor, which runs each query in its own transaction',
  },
  ExecuteStmt: {
    code: 'sql.opaque',
    message: '`EXECUTE` runs a prepared statement whose text cannot be checked here',
  },
  VacuumStmt: { code: 'sql.admin', message: '`VACUUM`/`ANALYZE` is maintenance for operators' },
  CheckPointStmt: { code: 'sql.admin', message: '`CHECKPOINT` is for operators' },
  ClusterStmt: { code: 'sql.admin', message: '`CLUSTER` is maintenance for operators' },
  ReindexStmt: { code: 'sql.admin', message: '`REINDEX` is maintenance for operators' },
  CreatedbStmt: { code: 'sql.admin', message: 'databases are created by operators' },
  DropdbStmt: { code: 'sql.admin', message: 'databases are dropped by operators' },
  AlterDatabaseSetStmt: { code: 'sql.admin', message: 'database settings are for operators' },
  CreateTableSpaceStmt: { code: 'sql.admin', message: 'tablespaces point at server directories' },
  CreateForeignServerStmt: { code: 'sql.admin', message: 'foreign servers reach other databases' },
  CreateFdwStmt: { code: 'sql.admin', message: 'foreign-data wrappers reach other systems' },
  CreateUserMappingStmt: { code: 'sql.admin', message: 'user mappings hold credentials' },
  ImportForeignSchemaStmt: { code: 'sql.admin', message: 'foreign schemas reach other databases' },
  CreateSubscriptionStmt: { code: 'sql.admin', message: 'subscriptions connect to other servers' },
  CreateEventTrigStmt: { code: 'sql.admin', message: 'event triggers run on every DDL' },
  AlterOwnerStmt: { code: 'sql.admin', message: 'ownership changes privileges' },
  ReassignOwnedStmt: { code: 'sql.admin', message: 'ownership changes privileges' },
  DropOwnedStmt: { code: 'sql.admin', message: 'drops everything a role owns' },
  LockStmt: { code: 'sql.admin', message: '`LOCK` can stall other sessions' },
  ListenStmt: { code: 'sql.admin', message: '`LISTEN` is not a query' },
  NotifyStmt: { code: 'sql.admin', message: '`NOTIFY` is not a query' },
  DiscardStmt: { code: 'sql.admin', message: '`DISCARD` resets the session' },
};

/**
 * Every operation keyword the analysis reports (`SqlOperation.op`): what `sql.forbid` and
 * `sql.forbidTables` may name. A statement kind not classified elsewhere reports its node name
 * without `Stmt`, lowercased (`alterowner`, `lock`).
 */
export const SQL_OPERATIONS: readonly string[] = [
  ...new Set([
    'select',
    'insert',
    'update',
    'delete',
    'merge',
    'truncate',
    'drop',
    'copy',
    'set',
    'do',
    'call',
    'prepare',
    'pragma',
    'attach',
    'detach',
    ...Object.values(READ),
    ...Object.values(DDL),
    ...Object.keys(ADMIN_FINDINGS).map((k) => k.replace(/Stmt$/, '').toLowerCase()),
  ]),
].sort();

/** Procedural languages whose code cannot touch the server's files or network. */
const TRUSTED_LANGUAGES = new Set(['sql', 'plpgsql']);

/** Roles `SET` can switch to or configuration it can change; the session is the executor's. */
const ROLE_SETTINGS = new Set(['role', 'session_authorization']);

const DROP_RELATIONS = new Set([
  'OBJECT_TABLE',
  'OBJECT_VIEW',
  'OBJECT_MATVIEW',
  'OBJECT_SEQUENCE',
  'OBJECT_INDEX',
  'OBJECT_FOREIGN_TABLE',
]);

const none: Pick<Verdict, 'targets' | 'namedTargets'> = { targets: [], namedTargets: [] };

/** Classifies one statement node (nested statements are classified when the walk reaches them). */
export function classifyStatement(kind: string, stmt: Node): Verdict {
  // `SELECT … INTO t` creates a table.
  if (kind === 'SelectStmt' && stmt.intoClause)
    return { class: 'ddl', op: 'create', targets: rel((stmt.intoClause as Node).rel), namedTargets: [] };
  const readOp = READ[kind];
  if (readOp) return { class: 'read', op: readOp, ...none };
  switch (kind) {
    case 'InsertStmt':
      return { class: 'write', op: 'insert', targets: rel(stmt.relation), namedTargets: [] };
    case 'MergeStmt':
      return { class: 'write', op: 'merge', targets: rel(stmt.relation), namedTargets: [] };
    case 'UpdateStmt':
    case 'DeleteStmt': {
      const op = kind === 'UpdateStmt' ? 'update' : 'delete';
      const verdict: Verdict = { class: 'write', op, targets: rel(stmt.relation), namedTargets: [] };
      if (!narrows(stmt.whereClause)) {
        verdict.class = 'destructive';
        const table = stmt.relation ? String((stmt.relation as Node).relname) : 'a table';
        verdict.unnarrowed = `${op.toUpperCase()} ${op === 'delete' ? 'FROM ' : ''}${table}`;
      }
      return verdict;
    }
    case 'TruncateStmt':
      return {
        class: 'destructive',
        op: 'truncate',
        targets: Array.isArray(stmt.relations) ? stmt.relations.map(unwrapRangeVar) : [],
        namedTargets: [],
      };
    case 'DropStmt': {
      const relations = DROP_RELATIONS.has(String(stmt.removeType));
      return {
        class: 'destructive',
        op: 'drop',
        targets: [],
        namedTargets: relations ? dropNames(stmt.objects) : [],
      };
    }
    case 'CopyStmt':
      return copyVerdict(stmt);
    case 'AlterTableStmt':
      return alterTableVerdict(stmt);
    case 'VariableSetStmt': {
      const name = String(stmt.name ?? '').toLowerCase();
      if (ROLE_SETTINGS.has(name))
        return {
          class: 'admin',
          op: 'set',
          ...none,
          finding: {
            code: 'sql.set-role',
            message: '`SET ROLE` / `SESSION AUTHORIZATION` switches identity',
          },
        };
      return {
        class: 'admin',
        op: 'set',
        ...none,
        finding: {
          code: 'sql.admin',
          message: `\`SET ${name}\` changes the session, which belongs to the executor`,
        },
      };
    }
    case 'CreateFunctionStmt':
      return functionVerdict(stmt);
    case 'DoStmt':
      return {
        class: 'admin',
        op: 'do',
        ...none,
        finding: ADMIN_FINDINGS.DoStmt as SqlFinding,
        body: { language: 'plpgsql', source: 'statement' },
      };
    case 'PrepareStmt':
      return { class: 'read', op: 'prepare', ...none };
    case 'CallStmt':
      return { class: 'write', op: 'call', ...none };
    default:
      break;
  }
  const ddl = DDL[kind];
  if (ddl) {
    const targets =
      kind === 'CreateTableAsStmt'
        ? rel((stmt.into as Node | undefined)?.rel)
        : kind === 'ViewStmt'
          ? rel(stmt.view)
          : rel(stmt.relation);
    return { class: 'ddl', op: ddl, targets, namedTargets: [] };
  }
  const finding = ADMIN_FINDINGS[kind] ?? {
    code: 'sql.admin',
    message: `\`${kind.replace(/Stmt$/, '')}\` statements are not among those Warden classifies; treated as administrative`,
  };
  return { class: 'admin', op: kind.replace(/Stmt$/, '').toLowerCase(), ...none, finding };
}

/**
 * `ALTER TABLE` forms that destroy stored values, whatever the rest of the statement does:
 * `DROP COLUMN` (also `ALTER TYPE … DROP ATTRIBUTE`) removes every value of the column, and
 * `ALTER COLUMN … TYPE` rewrites every value (a `USING` expression may replace them all; a
 * narrower type truncates). Other forms (`ADD COLUMN`, `DROP CONSTRAINT`, `DROP DEFAULT`,
 * `RENAME`, `DETACH PARTITION`) change the schema but keep the rows, and stay DDL.
 */
const DESTROYING_ALTERS: Readonly<Record<string, string>> = {
  AT_DropColumn: 'DROP COLUMN',
  AT_AlterColumnType: 'ALTER COLUMN … TYPE',
};

function alterTableVerdict(stmt: Node): Verdict {
  const targets = rel(stmt.relation);
  const table = stmt.relation ? String((stmt.relation as Node).relname).toLowerCase() : 'a table';
  const cmds = Array.isArray(stmt.cmds) ? stmt.cmds : [];
  for (const c of cmds) {
    const cmd = (c as { AlterTableCmd?: Node }).AlterTableCmd;
    const form = cmd ? DESTROYING_ALTERS[String(cmd.subtype)] : undefined;
    if (form && cmd)
      return {
        class: 'destructive',
        op: 'alter',
        targets,
        namedTargets: [],
        destroys: `ALTER TABLE ${table} ${form.replace('COLUMN', `COLUMN ${String(cmd.name ?? '')}`.trim())}`,
      };
  }
  return { class: 'ddl', op: 'alter', targets, namedTargets: [] };
}

function rel(node: unknown): object[] {
  return node && typeof node === 'object' ? [node] : [];
}

function unwrapRangeVar(node: unknown): object {
  const n = node as Node;
  return (n.RangeVar as object | undefined) ?? n;
}

function dropNames(objects: unknown): string[] {
  if (!Array.isArray(objects)) return [];
  const names: string[] = [];
  for (const o of objects) {
    const items = (o as { List?: { items?: Array<{ String?: { sval?: string } }> } }).List?.items;
    if (!items) continue;
    names.push(
      items
        .map((i) => i.String?.sval ?? '')
        .join('.')
        .toLowerCase(),
    );
  }
  return names;
}

function copyVerdict(stmt: Node): Verdict {
  const targets = rel(stmt.relation);
  const into = stmt.is_from === true;
  if (stmt.is_program === true)
    return {
      class: 'admin',
      op: 'copy',
      targets,
      namedTargets: [],
      finding: { code: 'sql.copy-program', message: '`COPY … PROGRAM` runs a shell command on the server' },
    };
  if (typeof stmt.filename === 'string')
    return {
      class: 'admin',
      op: 'copy',
      targets,
      namedTargets: [],
      finding: {
        code: 'sql.copy-file',
        message: `\`COPY … ${into ? 'FROM' : 'TO'} '${stmt.filename}'\` reads or writes a file on the server`,
      },
    };
  return { class: into ? 'write' : 'read', op: 'copy', targets, namedTargets: [] };
}

function functionVerdict(stmt: Node): Verdict {
  let language = 'sql';
  let body: string | undefined;
  const options = Array.isArray(stmt.options) ? stmt.options : [];
  for (const o of options) {
    const def = (o as { DefElem?: Node }).DefElem;
    if (!def) continue;
    const arg = def.arg as Node | undefined;
    if (def.defname === 'language')
      language = String((arg?.String as Node | undefined)?.sval ?? '').toLowerCase();
    if (def.defname === 'as') {
      const items = (arg?.List as { items?: Array<{ String?: { sval?: string } }> } | undefined)?.items;
      body = items?.[0]?.String?.sval;
    }
  }
  if (!TRUSTED_LANGUAGES.has(language))
    return {
      class: 'admin',
      op: 'create',
      ...none,
      finding: {
        code: 'sql.untrusted-language',
        message: `a function in \`${language}\` can reach the server's files and network`,
      },
    };
  const verdict: Verdict = { class: 'ddl', op: 'create', ...none };
  // A `BEGIN ATOMIC … END` (sql_body) body is part of the tree and is walked like any statement.
  if (language === 'plpgsql') verdict.body = { language: 'plpgsql', source: 'statement' };
  else if (body !== undefined) verdict.body = { language: 'sql', source: body };
  return verdict;
}
