// One file because FsScope's checks (roots, protected names and paths, symlink resolution, hard links) share one compiled scope that the guard and the executor both use.
import { lstatSync, readlinkSync, realpathSync, type Stats, statSync } from 'node:fs';
import { posix } from 'node:path';
import type { PathProblemCode } from '../../contract/errors.js';
import { compileGlob, compileGlobSet, type GlobSet } from '../../lib/path-glob.js';
import type { CompiledAgent } from '../../policy/compile.js';
import type { FsPolicy } from '../../policy/sections/fs.js';

/** Why a path is refused before anything is resolved. */
export interface PathProblem {
  code: PathProblemCode;
  message: string;
}

// Percent-encoded dot, slash, backslash, NUL, percent itself (double encoding), any byte above
// 0x7f (overlong UTF-8 such as `%c0%ae`), and IIS-style `%u002e`.
const PERCENT = /%(?:2e|2f|5c|00|25|[89a-f][0-9a-f])|%u[0-9a-f]{4}/i;
// Look-alikes of `.` and `/` that Unicode compatibility normalisation (NFKC) does not map.
const LOOKALIKES = /[\u2215\u2044\u29f8\u29f9\u2216\u3002\uff61]|\u0338/;
const INVISIBLE = /[\p{Cf}\p{Cc}]/u;
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;

/**
 * Spellings that some layer might decode into `.`, `/` or `\`: percent-encoding (`%2e%2e%2f`,
 * double `%252e`), fullwidth and other Unicode forms of dots and slashes (`．`, `／`, `․`, `‥`,
 * `∕`), and backslashes. Linux takes path bytes literally, so these are not traversal by
 * themselves; they are refused because a decoding step anywhere (a tool, a shell, a URL layer)
 * would turn them into one, and no honest agent needs them.
 */
export function encodedPathProblem(path: string): PathProblem | undefined {
  if (path.includes('\\')) return encoded(path, 'a backslash (use `/` as the separator)');
  if (PERCENT.test(path)) return encoded(path, 'a percent-encoded dot, slash, percent or non-ASCII byte');
  // Printable ASCII (the usual path) holds no invisible, control or look-alike character.
  if (!NOT_PRINTABLE_ASCII.test(path)) return undefined;
  const invisible = INVISIBLE.exec(path.replaceAll('\0', ''));
  if (invisible)
    return encoded(
      path,
      `an invisible or control character (U+${hex(invisible[0])}), which can make a path read differently to a human`,
    );
  for (const ch of path) {
    if (ch.charCodeAt(0) < 0x80) continue;
    if (LOOKALIKES.test(ch))
      return encoded(path, `\`${ch}\` (U+${hex(ch)}), which looks like a dot or slash`);
    const folded = ch.normalize('NFKC');
    if (folded !== ch && /[./\\]/.test(folded))
      return encoded(path, `\`${ch}\` (U+${hex(ch)}), which normalises to \`${folded}\``);
  }
  return undefined;
}

function hex(ch: string): string {
  return (ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
}

function encoded(path: string, what: string): PathProblem {
  return {
    code: 'fs.encoded-path',
    message: `path \`${JSON.stringify(path).slice(1, -1)}\` contains ${what}; encoded path characters are refused`,
  };
}

// What posix.resolve would change in an absolute path: an empty, `.` or `..` segment, or a trailing slash.
const NOT_NORMAL = /\/\/|\/\.\.?(?:\/|$)|.\/$/;

export function within(path: string, root: string): boolean {
  return root === '/' || path === root || path.startsWith(`${root}/`);
}

/** Where a path really is, and what is there. */
export interface Location {
  /** The real location: see `realLocation`. */
  real: string;
  /** `stat` of the path itself (symlinks followed); undefined when nothing is there yet. */
  stat: Stats | undefined;
}

/**
 * The real location of `path`: the realpath of its longest existing prefix, with the rest
 * appended. A symlink anywhere along the way, the last component included, is resolved.
 */
export function realLocation(path: string): string {
  return locate(path).real;
}

/**
 * `realLocation`, plus the `stat` of the path when it exists. The stat is the one the resolution
 * makes anyway to learn whether the path exists, so callers get the link count for free.
 *
 * A dangling symlink along the way (one whose target does not exist yet) is followed too: the
 * resolution restarts from its target, so a write through `link -> /elsewhere/new` is located at
 * `/elsewhere/new`, where the write would create it (at most 40 links, as Linux allows).
 */
export function locate(path: string): Location {
  // The path being located (a dangling symlink along the way replaces it), and its prefix being
  // tried: the longest one that exists is what realpath resolves.
  let full = path;
  let existing = path;
  let links = 0;
  for (;;) {
    // lstat() first: with throwIfNoEntry it answers "not there" without building an Error (the
    // common case for a file about to be written) in one syscall, and for anything but a symlink
    // it is the stat itself; only a symlink needs stat() to follow it. realpath(3) then resolves
    // the existing prefix in one call.
    const own = existing === '/' ? undefined : lstatOf(existing);
    const stat = own?.isSymbolicLink() ? statOf(existing) : own;
    if (existing === '/' || stat) {
      try {
        // `/` is its own real location: no call needed for a path whose every segment is missing.
        const real = existing === '/' ? '/' : realpathSync.native(existing);
        if (existing === full) return { real, stat };
        return { real: appendBelow(real, full, existing), stat: undefined };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
      }
    }
    if (existing === '/') return { real: path, stat: undefined };
    const target = own?.isSymbolicLink() ? readlinkSync(existing) : undefined;
    if (target !== undefined) {
      if (++links > 40) throw Object.assign(new Error(`too many symlinks at ${path}`), { code: 'ELOOP' });
      // INVARIANT: the link's directory exists (lstat found the link in it), so it resolves.
      const next = posix.resolve(realpathSync.native(posix.dirname(existing)), target);
      full = existing === full ? next : posix.join(next, ...segmentsBelow(full, existing));
      existing = full;
      continue;
    }
    existing = posix.dirname(existing);
  }
}

/**
 * `real` with the segments `full` has below `existing` appended (`existing` is `full` with its
 * last segments dropped by dirname). A normalised absolute path is appended as it is written: the
 * same string posix.join would make of its segments, without the array and the join.
 */
function appendBelow(real: string, full: string, existing: string): string {
  if (full.startsWith('/') && !NOT_NORMAL.test(full)) {
    const tail = full.slice(existing === '/' ? 1 : existing.length + 1);
    return real === '/' ? `/${tail}` : `${real}/${tail}`;
  }
  return posix.join(real, ...segmentsBelow(full, existing));
}

/** The basenames that dirname drops on the way from `full` down to `existing`, outermost first. */
function segmentsBelow(full: string, existing: string): string[] {
  const segments: string[] = [];
  for (let p = full; p !== existing; p = posix.dirname(p)) segments.push(posix.basename(p));
  return segments.reverse();
}

/** The first of `roots` that contains `path`. */
function rootWithin(roots: readonly string[], path: string): string | undefined {
  for (const root of roots) if (within(path, root)) return root;
  return undefined;
}

/** `lstat` of `path` (the link itself, not followed); undefined when nothing is there, or a file is used as a directory. */
function lstatOf(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** `stat` of `path` (following symlinks); undefined when nothing is there, or a file is used as a directory. */
function statOf(path: string): Stats | undefined {
  try {
    return statSync(path, { throwIfNoEntry: false });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
}

type SegmentMatcher = (segment: string) => boolean;

/**
 * Warden's own files, protected for every agent on top of `fs.protected` (`selfProtection`):
 * names matched like `fs.protected`, and absolute paths or globs matched against the whole path.
 */
export interface SelfProtected {
  names: readonly string[];
  paths: readonly string[];
}

/**
 * The compiled `fs` section: roots, protected names, caps. Shared by the guard (which decides)
 * and the executor (which checks the same things again on what it actually opened).
 */
export class FsScope {
  readonly roots: readonly string[];
  /** The roots' real locations, resolved at load (a root created later is resolved when used). */
  private readonly realRoots: readonly string[];
  private readonly patterns: Array<{ pattern: string; segments: SegmentMatcher[] }>;
  /** Every one-segment pattern in one set, so a segment is tested once (the common case). */
  private readonly singles: { set: GlobSet; patterns: string[] } | undefined;
  /** The first segment of every multi-segment pattern: no segment matching one, no such pattern matches. */
  private readonly firsts: GlobSet | undefined;

  /** Every protected name pattern: `fs.protected`, `fs.protectedExtra` and Warden's own names. */
  readonly protectedNames: readonly string[];
  /** Absolute paths and globs protected wherever the roots are (Warden's files, agents' code). */
  private readonly absolutes: Array<{ pattern: string; test: (path: string) => boolean }>;

  constructor(
    readonly policy: FsPolicy,
    self: SelfProtected = { names: [], paths: [] },
  ) {
    this.roots = policy.roots.map((r) => posix.resolve(r));
    this.realRoots = this.roots.map(realLocation);
    const all = [...policy.protected, ...policy.protectedExtra, ...self.names];
    this.protectedNames = all;
    this.absolutes = self.paths.map((pattern) => {
      const exact = compileGlob(pattern);
      // A protected directory protects what is under it.
      const under = compileGlob(`${pattern.replace(/\/+$/, '')}/**`);
      return { pattern, test: (path: string) => exact(path) || under(path) };
    });
    const single = all.filter((p) => !p.replace(/^\/+|\/+$/g, '').includes('/'));
    this.patterns = all
      .filter((p) => !single.includes(p))
      .map((pattern) => ({
        pattern,
        segments: pattern
          .split('/')
          .filter((s) => s !== '')
          .map((s) => compileGlob(s, { nocase: true })),
      }));
    const firsts = this.patterns.map(({ pattern }) => pattern.split('/').find((s) => s !== '') as string);
    if (firsts.length > 0) this.firsts = compileGlobSet(firsts, { nocase: true });
    if (single.length > 0) {
      const set = compileGlobSet(
        single.map((p) => p.replaceAll('/', '')),
        { nocase: true },
      );
      this.singles = { set, patterns: single };
    }
  }

  /** The absolute, lexically normalised path (relative paths resolve against the first root). */
  absolute(raw: string): string | PathProblem {
    if (raw.includes('\0'))
      return {
        code: 'fs.nul-byte',
        message: `path \`${JSON.stringify(raw).slice(1, -1)}\` contains a NUL byte`,
      };
    const problem = encodedPathProblem(raw);
    if (problem) return problem;
    if (raw.startsWith('/')) return NOT_NORMAL.test(raw) ? posix.resolve(raw) : raw;
    const base = this.roots[0];
    if (!base)
      return {
        code: 'fs.relative-path',
        message: `path \`${raw}\` is relative and no \`fs.roots\` is set to resolve it against; use an absolute path`,
      };
    return posix.resolve(base, raw);
  }

  /** The root that lexically contains `path`; undefined when outside every root (or no roots). */
  rootOf(path: string): string | undefined {
    return this.roots.find((r) => within(path, r));
  }

  /** Whether a real (symlink-free) location is inside the real form of some root. */
  insideRealRoots(real: string): boolean {
    if (this.roots.length === 0) return true;
    return this.realRoots.some((r, i) => within(real, r === this.roots[i] ? realLocation(r) : r));
  }

  /** The protected pattern `path` falls under (case-insensitive, any segment), if any. */
  protectedBy(path: string): string | undefined {
    // A name that normalises (NFKC) to a protected one is protected too (`.ｅｎｖ` → `.env`).
    // biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII range test
    if (/[^\x00-\x7f]/.test(path)) {
      const folded = path.normalize('NFKC');
      if (folded !== path) {
        const hit = this.protectedByExact(folded);
        if (hit) return hit;
      }
    }
    return this.protectedByExact(path);
  }

  /** The absolute protected paths and globs (`selfProtection`), for checks that compare patterns. */
  get protectedPaths(): readonly string[] {
    return this.absolutes.map((a) => a.pattern);
  }

  /** The policy setting a protected pattern comes from, for messages. */
  sectionOf(pattern: string): string {
    return this.policy.protected.includes(pattern) || this.policy.protectedExtra.includes(pattern)
      ? 'fs.protected'
      : 'selfProtection';
  }

  private protectedByExact(path: string): string | undefined {
    for (const a of this.absolutes) if (a.test(path)) return a.pattern;
    // Only what lies below the root counts: a root may itself sit under a name like `x.key`.
    const root = rootWithin(this.roots, path) ?? rootWithin(this.realRoots, path);
    const below = root && root !== '/' ? path.slice(root.length) : path;
    // Each segment in turn, without the arrays split() and filter() would build.
    let multi = false;
    for (let start = 0; start < below.length; ) {
      let end = below.indexOf('/', start);
      if (end === -1) end = below.length;
      const seg = end > start ? below.slice(start, end) : '';
      start = end + 1;
      if (seg === '') continue;
      // Which pattern, for the message: only on the (rare) denial path.
      if (this.singles?.set.test(seg)) return this.singles.patterns[this.singles.set.which(seg)];
      if (!multi && this.firsts?.test(seg)) multi = true;
    }
    if (!multi) return undefined;
    const segs = below.split('/').filter((s) => s !== '');
    for (const { pattern, segments } of this.patterns) {
      const k = segments.length;
      for (let i = 0; i + k <= segs.length; i++) {
        let all = true;
        for (let j = 0; j < k; j++) {
          if (!(segments[j] as SegmentMatcher)(segs[i + j] as string)) {
            all = false;
            break;
          }
        }
        if (all) return pattern;
      }
    }
    return undefined;
  }

  /**
   * Why reading the file behind `stat` is refused when it is a hard link: a regular file with more
   * than one name, where another name may lie outside the roots (the link count cannot say where).
   * Directories are exempt (their link count counts subdirectories); so is everything with
   * `fs.hardLinks: allow`.
   */
  hardLinkProblem(
    path: string,
    stat: { isFile(): boolean; nlink: number } | undefined,
  ): PathProblem | undefined {
    // INVARIANT: anything but an explicit `allow` refuses, so a hand-built policy fails closed.
    if (!stat || stat.nlink <= 1 || this.policy.hardLinks === 'allow' || !stat.isFile()) return undefined;
    return {
      code: 'fs.hard-link',
      message: `path \`${path}\` is a hard link (the file has ${stat.nlink} names, and another may be outside \`fs.roots\`), so it is not read; replace it with a copy, or set \`fs.hardLinks: allow\` if the tree is built with hard links on purpose (a pnpm store, \`git clone --local\`)`,
    };
  }

  /**
   * Whether the real location is acceptable for this agent: inside the roots, and inside the
   * agent's path grants (which permissions checked on the path as written).
   */
  realProblem(
    agent: CompiledAgent | undefined,
    path: string,
    real: string,
    /** A path the caller already found unprotected: when `real` is the same, it is not checked again. */
    unprotected?: string,
  ): PathProblem | undefined {
    if (!this.insideRealRoots(real))
      return {
        code: 'fs.symlink-escape',
        message: `path \`${path}\` resolves through a symlink to \`${real}\`, outside \`fs.roots\` (${this.roots.join(', ')})`,
      };
    const grant = agent?.paths;
    if (real !== path && grant && (grant.denies(real) || !grant.allows(real)))
      return {
        code: 'fs.symlink-escape',
        message: `path \`${path}\` resolves through a symlink to \`${real}\`, outside the path grants of agent \`${agent.name}\``,
      };
    const guarded = real === unprotected ? undefined : this.protectedBy(real);
    if (guarded)
      return {
        code: 'fs.protected',
        message: `path \`${path}\` resolves to \`${real}\`, which is protected (\`${guarded}\` in \`fs.protected\`)`,
      };
    return undefined;
  }
}
