import { existsSync } from 'node:fs';
import { posix } from 'node:path';
import type { Action } from '../../contract/action.js';
import { hasGlob } from '../../lib/glob-overlap.js';
import { databaseNameOf, type SqlPolicy } from '../../policy/sections/sql.js';
import { type FsScope, realLocation } from '../fs/fs-paths.js';
import type { Guard, GuardFinding } from '../guard.js';
import { ProtectedNames } from '../shell/shell-protected.js';

/** Path-like words of a program: quoted strings and bare tokens with a `/` or a leading dot. */
const PATH_WORD =
  /(["'`])((?:(?!\1)[^\\\n]|\\.){1,4096})\1|(?:^|[\s(,=])((?:\.{0,2}\/|~\/)?[\w.-]*(?:\/[\w.*?[\]{}-]+)+|\.[\w.-]+)/g;

/**
 * Protected files reached other than by `fs.*` and `shell.exec` (whose guards check them
 * already): the paths a `code.exec` program names (every quoted string and path-like word,
 * resolved against `params.cwd` or the first root, a glob compared with the protected names, a
 * symlink by where it leads) give `code.protected`; a `sql.query` on a SQLite database whose file
 * is protected (Warden's own store) gives `sql.protected`. A program that builds a path at run
 * time is not seen here: the sandbox's mounts are the line for that.
 */
export function createProtectedGuard(scope: FsScope, sql: SqlPolicy): Guard {
  const names = new ProtectedNames(scope);
  const protectedDbs = new Map<string, string>();
  for (const [name, db] of Object.entries(sql.databases)) {
    if (db.driver !== 'sqlite') continue;
    const file = posix.resolve(db.file);
    const hit =
      scope.protectedBy(file) ?? (existsSync(file) ? scope.protectedBy(realLocation(file)) : undefined);
    if (hit) protectedDbs.set(name, hit);
  }
  return {
    name: 'protected',
    appliesTo: (type) => type === 'code.exec' || type === 'sql.query',
    inspect: function protectedGuard(action: Action): GuardFinding[] {
      if (action.type === 'sql.query') {
        const db = databaseNameOf(sql, action.params);
        const hit = db === undefined ? undefined : protectedDbs.get(db);
        return hit
          ? [
              deny(
                'sql.protected',
                `database \`${db}\` is a protected file (\`${hit}\` in \`${scope.sectionOf(hit)}\`): Warden's own store is not for agents`,
              ),
            ]
          : [];
      }
      const code = String(action.params.code ?? '');
      const cwd = typeof action.params.cwd === 'string' ? action.params.cwd : (scope.roots[0] ?? '/');
      for (const m of code.matchAll(PATH_WORD)) {
        const word = (m[2] ?? m[3] ?? '').trim();
        if (word === '' || word.length > 4096) continue;
        const full = posix.resolve(cwd, word.replace(/^~\//, '/root/'));
        const hit = names.named(full, hasGlob(word)) ?? symlinkHit(scope, full);
        if (hit)
          return [
            deny(
              'code.protected',
              `the program names \`${word}\`, which ${hasGlob(word) ? 'can expand to' : 'is'} a protected file (\`${hit}\` in \`${scope.sectionOf(hit)}\`)`,
            ),
          ];
      }
      return [];
    },
  };
}

function symlinkHit(scope: FsScope, full: string): string | undefined {
  try {
    return existsSync(full) ? scope.protectedBy(realLocation(full)) : undefined;
  } catch {
    return undefined;
  }
}

function deny(code: string, message: string): GuardFinding {
  return { effect: 'deny', code, message };
}
