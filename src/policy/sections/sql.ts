import { z } from 'zod';
import type { SqlDialect } from '../../sql/sql-analysis.js';
import { SQL_OPERATIONS } from '../../sql/sql-classes.js';

const Verdict = z.enum(['allow', 'ask', 'deny']);
const Operation = z
  .string()
  .min(1)
  .toLowerCase()
  .refine((op) => SQL_OPERATIONS.includes(op), {
    error: (issue) =>
      `unknown SQL operation \`${String(issue.input)}\`; expected one of ${SQL_OPERATIONS.join(', ')}`,
  });
const Duration = z.union([
  z.number().positive(),
  z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, 'expected a duration such as `5s` or `500ms`'),
]);

const DatabaseSchema = z.discriminatedUnion('driver', [
  z
    .object({
      driver: z.literal('postgres'),
      url: z.string().min(1).describe('connection string, e.g. `postgres://agent@db/app`'),
      schema: z.string().min(1).optional().describe('search_path for the agent’s queries'),
    })
    .strict(),
  z
    .object({
      driver: z.literal('sqlite'),
      file: z.string().min(1).describe('path of the SQLite file (must exist)'),
    })
    .strict(),
]);

/**
 * Policy section `sql` (see docs/policy.md): what the SQL guard lets through and the databases
 * Warden's own executors connect to.
 */
export const SqlPolicySchema = z
  .object({
    writes: Verdict.default('ask').describe('INSERT, narrowed UPDATE/DELETE, MERGE: default ask'),
    ddl: Verdict.default('ask').describe('CREATE, ALTER, COMMENT: default ask'),
    destructive: Verdict.default('ask').describe(
      'DROP, TRUNCATE, UPDATE/DELETE without a narrowing WHERE: default ask',
    ),
    admin: Verdict.default('deny').describe(
      'COPY PROGRAM/file, dangerous functions, SET ROLE, DO, PRAGMA writes, ATTACH…: default deny',
    ),
    forbid: z
      .array(Operation)
      .default(['drop', 'truncate'])
      .describe(
        'operation keywords refused outright (`drop`, `truncate`, `delete`, `alter`, …); default drop, truncate',
      ),
    forbidTables: z
      .record(z.string().min(1), z.array(z.union([z.literal('*'), Operation])).min(1))
      .default({})
      .describe('table pattern → operations refused on it (`*` for any), e.g. `users: [delete]`'),
    denyFunctions: z
      .array(z.string().min(1).toLowerCase())
      .default([])
      .describe('functions refused in addition to the built-in dangerous list'),
    databases: z.record(z.string().min(1), DatabaseSchema).default({}),
    defaultDatabase: z
      .string()
      .min(1)
      .optional()
      .describe('used when an action names none; default the only database'),
    statementTimeout: Duration.default('5s'),
    maxRows: z.number().int().min(1).max(1_000_000).default(1000),
  })
  .strict()
  .prefault({});

export type SqlPolicy = z.infer<typeof SqlPolicySchema>;
export type SqlDatabaseConfig = z.infer<typeof DatabaseSchema>;

/** The database an action means: its `params.database`, else `defaultDatabase`, else the only one. */
export function databaseNameOf(policy: SqlPolicy, params: Record<string, unknown>): string | undefined {
  if (typeof params.database === 'string') return params.database;
  if (policy.defaultDatabase) return policy.defaultDatabase;
  const names = Object.keys(policy.databases);
  return names.length === 1 ? names[0] : undefined;
}

/** The dialect to parse an action's SQL in: SQLite for a `sqlite` database, else PostgreSQL. */
export function sqlDialectOf(policy: SqlPolicy | undefined, params: Record<string, unknown>): SqlDialect {
  if (!policy) return 'postgres';
  const name = databaseNameOf(policy, params);
  return name !== undefined && policy.databases[name]?.driver === 'sqlite' ? 'sqlite' : 'postgres';
}
