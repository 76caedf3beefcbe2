import type { SqlClass, SqlFinding } from './sql-types.js';

/** A SQLite-only statement, recognised apart from the PostgreSQL parser. */
export interface SqliteSpecial {
  kind: 'PragmaStmt' | 'AttachStmt' | 'DetachStmt';
  op: 'pragma' | 'attach' | 'detach';
  class: SqlClass;
  finding?: SqlFinding;
}

/**
 * `PRAGMA`s that only report. Their read form (`PRAGMA name`, `PRAGMA name(arg)`) is a read; any
 * other pragma, and any pragma with `= value`, changes the connection or the file: admin.
 */
const READ_PRAGMAS = new Set([
  'table_info',
  'table_xinfo',
  'table_list',
  'index_list',
  'index_info',
  'index_xinfo',
  'foreign_key_list',
  'foreign_key_check',
  'database_list',
  'collation_list',
  'function_list',
  'module_list',
  'pragma_list',
  'compile_options',
  'integrity_check',
  'quick_check',
  'user_version',
  'schema_version',
  'application_id',
  'page_count',
  'page_size',
  'freelist_count',
  'encoding',
  'data_version',
  'journal_mode',
  'foreign_keys',
]);

interface Token {
  kind: 'word' | 'space' | 'comment' | 'string' | 'ident' | 'param' | 'semi' | 'other';
  text: string;
}

/**
 * Makes SQLite text parseable by the PostgreSQL parser without changing what it does, token by
 * token (strings and comments are never touched): `` `name` `` and `[name]` become `"name"`;
 * `?`, `?NNN`, `:name`, `@name` and `$name` become `$N`; `INSERT OR REPLACE|IGNORE|…` and
 * `REPLACE INTO` become `INSERT`; `AUTOINCREMENT` is dropped. `PRAGMA`, `ATTACH` and `DETACH`
 * statements are taken out and returned as `special`. What remains is parsed by PostgreSQL's
 * parser: SQLite syntax it does not know (`GLOB`, `IS` between values, triggers) does not parse
 * and is denied.
 */
export function translateSqlite(sql: string): {
  postgres: string;
  /** The translated statements one by one, split by SQLite's rules. */
  statements: string[];
  special: SqliteSpecial[];
} {
  const special: SqliteSpecial[] = [];
  const out: string[] = [];
  const params = { next: 1, named: new Map<string, number>() };
  for (const statement of splitStatements(tokenize(sql))) {
    const words = statement.filter((t) => t.kind !== 'space' && t.kind !== 'comment');
    const first = words[0]?.text.toUpperCase();
    if (first === 'PRAGMA') {
      special.push(pragma(words.slice(1)));
      continue;
    }
    if (first === 'ATTACH' || first === 'DETACH') {
      special.push({
        kind: first === 'ATTACH' ? 'AttachStmt' : 'DetachStmt',
        op: first === 'ATTACH' ? 'attach' : 'detach',
        class: 'admin',
        finding: {
          code: 'sql.attach',
          message: `\`${first}\` opens or closes another database file on the server`,
        },
      });
      continue;
    }
    out.push(translate(statement, params));
  }
  return { postgres: out.join(';'), statements: out, special };
}

function translate(tokens: Token[], params: { next: number; named: Map<string, number> }): string {
  const parts: string[] = [];
  let previousWord = '';
  let skipNextWord = false;
  let wordIndex = 0;
  for (const t of tokens) {
    if (t.kind === 'word') {
      const upper = t.text.toUpperCase();
      if (skipNextWord) {
        skipNextWord = false;
        previousWord = upper;
        continue;
      }
      if (upper === 'OR' && (previousWord === 'INSERT' || previousWord === 'UPDATE')) {
        skipNextWord = true;
        previousWord = upper;
        continue;
      }
      if (upper === 'REPLACE' && wordIndex === 0) {
        parts.push('INSERT');
        previousWord = 'INSERT';
        wordIndex++;
        continue;
      }
      if (upper === 'AUTOINCREMENT') continue;
      previousWord = upper;
      wordIndex++;
      parts.push(t.text);
      continue;
    }
    if (t.kind === 'comment') {
      // SQLite comments do not nest and PostgreSQL's do: dropped, they cannot be read two ways.
      parts.push(' ');
      continue;
    }
    if (t.kind === 'param') {
      parts.push(`$${paramNumber(t.text, params)}`);
      continue;
    }
    if (t.kind === 'ident' && (t.text.startsWith('`') || t.text.startsWith('['))) {
      const inner = t.text.startsWith('`') ? t.text.slice(1, -1).replaceAll('``', '`') : t.text.slice(1, -1);
      parts.push(`"${inner.replaceAll('"', '""')}"`);
      continue;
    }
    parts.push(t.text);
  }
  return parts.join('');
}

function paramNumber(text: string, params: { next: number; named: Map<string, number> }): number {
  if (text === '?') return params.next++;
  if (text.startsWith('?')) {
    const n = Number(text.slice(1));
    params.next = Math.max(params.next, n + 1);
    return n;
  }
  let n = params.named.get(text);
  if (n === undefined) {
    n = params.next++;
    params.named.set(text, n);
  }
  return n;
}

function pragma(words: Token[]): SqliteSpecial {
  // `PRAGMA [schema.]name …`
  const qualified = words[1]?.text === '.';
  const i = qualified ? 3 : 1;
  const name = (words[i - 1]?.text ?? '').toLowerCase();
  const rest = words.slice(i).map((t) => t.text);
  const assigns = rest[0] === '=';
  if (READ_PRAGMAS.has(name) && !assigns && (rest.length === 0 || rest[0] === '('))
    return { kind: 'PragmaStmt', op: 'pragma', class: 'read' };
  return {
    kind: 'PragmaStmt',
    op: 'pragma',
    class: 'admin',
    finding: {
      code: 'sql.pragma-write',
      message: `\`PRAGMA ${name}${assigns ? ' = …' : ''}\` is not a read-only pragma: it can change the connection or the database file`,
    },
  };
}

function splitStatements(tokens: Token[]): Token[][] {
  const statements: Token[][] = [[]];
  for (const t of tokens) {
    if (t.kind === 'semi') statements.push([]);
    else (statements[statements.length - 1] as Token[]).push(t);
  }
  return statements.filter((s) => s.some((t) => t.kind !== 'space' && t.kind !== 'comment'));
}

const WORD = /[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*/y;
const SPACE = /\s+/y;
const NUMBERED = /\?[0-9]*/y;
const NAMED = /[:@$][A-Za-z_][A-Za-z0-9_]*/y;

function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const sticky = (re: RegExp) => {
    re.lastIndex = i;
    const m = re.exec(sql);
    return m ? m[0] : undefined;
  };
  const until = (close: string, from: number, doubled: boolean) => {
    let j = from;
    for (;;) {
      const k = sql.indexOf(close, j);
      if (k === -1) return sql.length;
      if (doubled && sql.startsWith(close, k + 1)) {
        j = k + 2;
        continue;
      }
      return k + close.length;
    }
  };
  while (i < sql.length) {
    const ch = sql[i] as string;
    let end: number;
    let kind: Token['kind'];
    if (/\s/.test(ch)) {
      end = i + (sticky(SPACE) as string).length;
      kind = 'space';
    } else if (sql.startsWith('--', i)) {
      const nl = sql.indexOf('\n', i);
      end = nl === -1 ? sql.length : nl;
      kind = 'comment';
    } else if (sql.startsWith('/*', i)) {
      const close = sql.indexOf('*/', i + 2);
      end = close === -1 ? sql.length : close + 2;
      kind = 'comment';
    } else if (ch === "'") {
      end = until("'", i + 1, true);
      kind = 'string';
    } else if (ch === '"' || ch === '`') {
      end = until(ch, i + 1, true);
      kind = 'ident';
    } else if (ch === '[') {
      end = until(']', i + 1, false);
      kind = 'ident';
    } else if (ch === ';') {
      end = i + 1;
      kind = 'semi';
    } else if (ch === '?') {
      end = i + (sticky(NUMBERED) as string).length;
      kind = 'param';
    } else if ((ch === ':' || ch === '@' || ch === '$') && sql[i + 1] !== ':' && sticky(NAMED)) {
      end = i + (sticky(NAMED) as string).length;
      kind = 'param';
    } else if (sticky(WORD)) {
      end = i + (sticky(WORD) as string).length;
      kind = 'word';
    } else {
      end = i + 1;
      kind = 'other';
    }
    tokens.push({ kind, text: sql.slice(i, end) });
    i = end;
  }
  return tokens;
}
