import { type Dirent, readdirSync } from 'node:fs';
import { posix } from 'node:path';
import picomatch from 'picomatch';
import { globsOverlap, hasGlob } from '../../lib/glob-overlap.js';
import { type FsScope, realLocation } from '../fs/fs-paths.js';
import type { Word } from './shell-words.js';

/** How many entries a recursive command's tree may hold before the guard stops looking and refuses. */
export const TREE_LIMIT = 20_000;

/** Commands whose first operand is a pattern or program, not a file (unless `-e`/`-f` gives it). */
const PATTERN_FIRST = /^(grep|egrep|fgrep|rgrep|rg|ag|ack|sed|jq|yq)$/;
const PATTERN_OPTION = /^(-e|-f|--regexp|--file|--expression)(=|$)/;

/**
 * Whether a command walks the trees of its directory operands: always (`find`, `tar`, `rg`, `mv`
 * of a directory), or with a recursive flag (`grep -r`, `cp -a`, `chmod -R`, `rm -rf` …).
 */
export function isRecursive(base: string, args: readonly Word[]): boolean {
  if (/^(find|tar|bsdtar|rgrep|rg|ag|ack|mv|rsync|du)$/.test(base))
    return base !== 'rsync' || args.some((a) => flag(a.value, 'ra', ['--recursive', '--archive']));
  const values = args.map((a) => a.value);
  switch (base) {
    case 'grep':
    case 'egrep':
    case 'fgrep':
      return values.some(
        (v, i) =>
          flag(v, 'rR', ['--recursive', '--dereference-recursive', '--directories=recurse']) ||
          (v === '-d' && values[i + 1] === 'recurse'),
      );
    case 'cp':
    case 'scp':
      return values.some((v) => flag(v, 'rRa', ['--recursive', '--archive']));
    case 'rm':
    case 'diff':
      return values.some((v) => flag(v, 'rR', ['--recursive']));
    case 'chmod':
    case 'chown':
    case 'chgrp':
    case 'setfacl':
      return values.some((v) => flag(v, 'R', ['--recursive']));
    case 'zip':
      return values.some((v) => flag(v, 'r', ['--recurse-paths']));
    default:
      return false;
  }
}

function flag(v: string | undefined, letters: string, long: readonly string[]): boolean {
  if (v === undefined) return false;
  if (long.includes(v)) return true;
  return /^-[A-Za-z]+$/.test(v) && [...letters].some((l) => v.slice(1).includes(l));
}

/**
 * The operands of a command that name files: every argument after options (and the value of
 * `--opt=/path`), except the pattern of `grep`-like commands and the expressions of `find`.
 * A recursive command given no operand works on the current directory (`grep -r x`, `find`).
 */
export function fileOperands(base: string, args: readonly Word[]): Word[] {
  const out: Word[] = [];
  let options = true;
  let skipPattern = PATTERN_FIRST.test(base) && !args.some((a) => PATTERN_OPTION.test(a.value ?? ''));
  for (const arg of args) {
    const v = arg.value;
    if (base === 'find' && v !== undefined && /^[-(!)]/.test(v)) break;
    if (options && v === '--') {
      options = false;
      continue;
    }
    if (options && v?.startsWith('-') && v !== '-') {
      const eq = v.indexOf('=');
      if (eq > 0 && /^[/~.]/.test(v.slice(eq + 1))) out.push({ ...arg, value: v.slice(eq + 1) });
      continue;
    }
    if (skipPattern) {
      skipPattern = false;
      continue;
    }
    out.push(arg);
  }
  return out;
}

/**
 * The file guard's protected names (`fs.protected`, `fs.protectedExtra`) applied to what a shell
 * command names: a literal path, a glob that could expand to a protected name (`.en?`, `*.p[e]m`,
 * `.{e,x}nv` after brace expansion), and, for a command that walks a tree, any protected entry in
 * that tree (looked up on disk, at most `TREE_LIMIT` entries; a larger tree is refused).
 */
export class ProtectedNames {
  private readonly singles: string[];
  private readonly multis: Array<{ pattern: string; segments: string[] }>;

  constructor(private readonly scope: FsScope) {
    const all = scope.protectedNames;
    this.singles = all.filter((p) => !p.replace(/^\/+|\/+$/g, '').includes('/'));
    this.multis = all
      .filter((p) => !this.singles.includes(p))
      .map((pattern) => ({ pattern, segments: pattern.split('/').filter((s) => s !== '') }));
  }

  /** The policy setting a protected pattern comes from, for messages. */
  sectionOf(pattern: string): string {
    return this.scope.sectionOf(pattern);
  }

  /**
   * The protected pattern an absolute path could name; undefined when none. A glob is expanded on
   * disk the way bash would (no `dotglob`) when its directory exists, and each name it reaches is
   * checked; where nothing exists yet, it is compared with the patterns themselves: a glob that
   * could expand to a protected name is refused (a pattern's `*` taken as a run without dots, so
   * `*.ts` is not taken for `id_rsa*`).
   */
  named(full: string, glob: boolean): string | undefined {
    if (!glob || !hasGlob(full)) return this.scope.protectedBy(full);
    const onDisk = expandOnDisk(full);
    if (onDisk) {
      for (const path of onDisk) {
        const hit = this.scope.protectedBy(path);
        if (hit) return hit;
      }
      return undefined;
    }
    const root = this.scope.rootOf(full);
    const below = root && root !== '/' ? full.slice(root.length) : full;
    const segs = below.split('/').filter((s) => s !== '');
    const options = { shellDot: true, patternStarsSkipDots: true };
    for (const seg of segs)
      for (const p of this.singles) if (globsOverlap(seg, p.replaceAll('/', ''), options)) return p;
    for (const { pattern, segments } of this.multis)
      for (let i = 0; i + segments.length <= segs.length; i++)
        if (segments.every((s, k) => globsOverlap(segs[i + k] as string, s, options))) return pattern;
    const all = full.split('/').filter((s) => s !== '');
    for (const pattern of this.scope.protectedPaths)
      if (pathGlobsOverlap(all, pattern, options)) return pattern;
    return undefined;
  }

  /**
   * The first protected entry under `dir` (symlinks judged by where they lead, not followed into),
   * `too-large` when the tree has more than `TREE_LIMIT` entries, undefined when it holds none or
   * `dir` is not a directory.
   */
  inTree(dir: string): string | 'too-large' | undefined {
    const pending = [dir];
    let seen = 0;
    while (pending.length > 0) {
      const current = pending.pop() as string;
      let entries: Dirent[];
      try {
        entries = readdirSync(current, { withFileTypes: true });
      } catch {
        continue; // not a directory, or gone: nothing under it to reach
      }
      for (const e of entries) {
        if (++seen > TREE_LIMIT) return 'too-large';
        const full = posix.join(current, e.name);
        if (this.scope.protectedBy(full)) return full;
        if (e.isSymbolicLink()) {
          try {
            if (this.scope.protectedBy(realLocation(full))) return full;
          } catch {
            // an unresolvable link leads nowhere the command can read
          }
        } else if (e.isDirectory()) pending.push(full);
      }
    }
    return undefined;
  }
}

/** Whether a glob path's segments could name something under an absolute protected pattern. */
function pathGlobsOverlap(
  segs: readonly string[],
  pattern: string,
  options: Parameters<typeof globsOverlap>[2],
): boolean {
  const want = pattern.split('/').filter((s) => s !== '');
  for (let i = 0; i < want.length; i++) {
    const p = want[i] as string;
    if (p === '**') return true;
    const seg = segs[i];
    if (seg === undefined) return false;
    if (seg === '**') return true;
    if (!globsOverlap(seg, p, options)) return false;
  }
  return true;
}

/** The literal directory a glob path starts from (`src/*.ts` → `src`), where a tree walk begins. */
export function literalPrefix(path: string): string {
  const segs = path.split('/');
  const i = segs.findIndex((s) => hasGlob(s));
  if (i < 0) return path;
  const prefix = segs.slice(0, i).join('/');
  return prefix === '' ? (path.startsWith('/') ? '/' : '.') : prefix;
}

/**
 * The paths a glob expands to on disk now (bash rules: a segment starting with a wildcard skips
 * dot files), at most `TREE_LIMIT`; undefined when the directory it starts from does not exist.
 */
function expandOnDisk(full: string): string[] | undefined {
  const start = literalPrefix(full);
  try {
    readdirSync(start);
  } catch {
    return undefined;
  }
  const rest = full
    .slice(start.length)
    .split('/')
    .filter((s) => s !== '');
  let current = [start];
  for (const seg of rest) {
    const next: string[] = [];
    if (!hasGlob(seg)) for (const dir of current) next.push(posix.join(dir, seg));
    else {
      const matches = picomatch(seg, { dot: seg.startsWith('.') });
      for (const dir of current) {
        let names: string[];
        try {
          names = readdirSync(dir);
        } catch {
          continue;
        }
        for (const name of names) if (matches(name)) next.push(posix.join(dir, name));
        if (next.length > TREE_LIMIT) return next;
      }
    }
    current = next;
  }
  return current;
}
