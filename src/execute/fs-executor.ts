// One file because all four operations share one descriptor-relative open and re-check (INVARIANT below).
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  renameSync,
  rmdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { posix } from 'node:path';
import type { Action } from '../contract/action.js';
import { type FsErrorCode, WardenError } from '../contract/errors.js';
import type { FsScope, PathProblem } from '../guards/fs/fs-paths.js';
import type { CompiledAgent, CompiledPolicy } from '../policy/compile.js';
import type { Executor } from './execute.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_DIRECTORY, O_NONBLOCK } = constants;
const MAX_LINKS = 8;

/** A refusal by the executor itself: the world changed between the check and the use. */
export class FsRefusal extends WardenError {
  override readonly name = 'FsRefusal';
  constructor(
    override readonly code: FsErrorCode,
    message: string,
  ) {
    super(code, `${code}: ${message}`, { stage: 'execute' });
  }
}

export interface FsReadOutput {
  path: string;
  /** UTF-8 text, or base64 when the action asked for `params.encoding: 'base64'`. */
  content: string;
  bytes: number;
  encoding?: 'base64';
}
export interface FsListOutput {
  path: string;
  entries: Array<{ name: string; type: 'file' | 'directory' | 'symlink' | 'other' }>;
  /** Entries left out because they are protected. */
  hidden: number;
  truncated: boolean;
}

/**
 * Warden's own executors for `fs.read`, `fs.write`, `fs.list` and `fs.delete` (Linux).
 *
 * INVARIANT: nothing is reached through a path that could change under us. The parent directory
 * is opened first and its real location read back from the open descriptor
 * (`/proc/self/fd/N`), then checked against the roots, grants and protected names; the last
 * component is opened *relative to that descriptor* with `O_NOFOLLOW`, and the opened file's
 * real location is checked again. A directory swapped for a symlink after the guard's check is
 * therefore seen (the descriptor points outside) and refused; a symlink as the last component
 * is followed only by repeating the whole check on its target. Writes go to a temporary file in
 * the verified directory and are renamed over the target, so a write never goes through a
 * symlink or a hard link to a file elsewhere. A read refuses a file with more than one name
 * (`fs.hard-link`, checked with fstat on the opened descriptor) unless `fs.hardLinks: allow`:
 * its other name may be outside the roots, and nothing on this side can tell. Deletes unlink
 * only the name inside the root, so a hard link may be deleted.
 */
export function fsExecutors(scope: FsScope, policy: CompiledPolicy): Record<string, Executor<unknown>> {
  const agentOf = (action: Action) => policy.agents.get(action.agent);
  return {
    'fs.read': function fsRead(action) {
      const read = readFile(scope, agentOf(action), pathOf(scope, action));
      if (action.params.encoding !== 'base64') return { ...read, content: read.content.toString('utf8') };
      return { ...read, content: read.content.toString('base64'), encoding: 'base64' };
    },
    'fs.list': function fsList(action) {
      return listDirectory(scope, agentOf(action), pathOf(scope, action));
    },
    'fs.write': function fsWrite(action) {
      return writeFile(scope, agentOf(action), pathOf(scope, action), String(action.params.content ?? ''));
    },
    'fs.delete': function fsDelete(action) {
      return deleteEntry(scope, agentOf(action), pathOf(scope, action));
    },
  };
}

function pathOf(scope: FsScope, action: Action): string {
  const path = scope.absolute(String(action.params.path));
  if (typeof path !== 'string') throw refusal(path);
  if (scope.roots.length > 0 && !scope.rootOf(path))
    throw new FsRefusal('fs.outside-root', `path \`${path}\` is outside \`fs.roots\``);
  const guarded = scope.protectedBy(path);
  if (guarded) throw new FsRefusal('fs.protected', `path \`${path}\` is protected (\`${guarded}\`)`);
  return path;
}

function refusal(problem: PathProblem): FsRefusal {
  return new FsRefusal(problem.code, problem.message);
}

const fdPath = (fd: number) => `/proc/self/fd/${fd}`;

interface Parent {
  fd: number;
  name: string;
  /** The parent's real location, read from its descriptor. */
  real: string;
  /** `/proc/self/fd/N/name`: the last component, relative to the verified descriptor. */
  entry: string;
}

/** Opens and verifies the directory holding `path`; the caller closes `fd`. */
function openParent(scope: FsScope, agent: CompiledAgent | undefined, path: string): Parent {
  const name = posix.basename(path);
  if (path === '/' || name === '' || name === '.' || name === '..')
    throw new FsRefusal('fs.invalid-path', `path \`${path}\` names no entry`);
  const fd = openSync(posix.dirname(path), O_RDONLY | O_DIRECTORY);
  try {
    const real = readlinkSync(fdPath(fd));
    const problem = scope.realProblem(agent, path, posix.join(real, name));
    if (problem) throw refusal(problem);
    return { fd, name, real, entry: `${fdPath(fd)}/${name}` };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * Opens `path` with `flags | O_NOFOLLOW` relative to its verified parent. A symlink in the last
 * place is followed by checking its target from scratch (at most 8 links).
 */
function openVerified(
  scope: FsScope,
  agent: CompiledAgent | undefined,
  path: string,
  flags: number,
  links = 0,
): { fd: number; real: string; path: string } {
  const parent = openParent(scope, agent, path);
  let fd: number;
  try {
    fd = openSync(parent.entry, flags | O_NOFOLLOW);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ELOOP' && code !== 'ENOTDIR') {
      closeSync(parent.fd);
      throw error;
    }
    let target: string;
    try {
      target = readlinkSync(parent.entry);
    } catch {
      closeSync(parent.fd);
      throw error;
    }
    closeSync(parent.fd);
    if (links >= MAX_LINKS) throw new FsRefusal('fs.unresolvable', `too many symlinks at \`${path}\``);
    return openVerified(scope, agent, posix.resolve(parent.real, target), flags, links + 1);
  }
  closeSync(parent.fd);
  try {
    const real = readlinkSync(fdPath(fd));
    const problem = scope.realProblem(agent, path, real);
    if (problem) throw refusal(problem);
    return { fd, real, path };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function readFile(
  scope: FsScope,
  agent: CompiledAgent | undefined,
  path: string,
): { path: string; content: Buffer; bytes: number } {
  const max = scope.policy.maxReadBytes;
  // O_NONBLOCK: opening a FIFO must not hang; it is refused below as not a regular file.
  const opened = openVerified(scope, agent, path, O_RDONLY | O_NONBLOCK);
  try {
    const st = fstatSync(opened.fd);
    if (!st.isFile()) throw new FsRefusal('fs.not-a-file', `\`${path}\` is not a regular file`);
    // On the descriptor that will be read: a hard link made after the guard's check is seen here.
    const linked = scope.hardLinkProblem(path, st);
    if (linked) throw refusal(linked);
    if (st.size > max)
      throw new FsRefusal(
        'fs.too-large',
        `\`${path}\` is ${st.size} bytes; \`fs.maxReadBytes\` allows ${max}`,
      );
    const buffer = Buffer.alloc(Math.min(st.size, max) + 1);
    let length = 0;
    for (;;) {
      const n = readSync(opened.fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length > max)
        throw new FsRefusal('fs.too-large', `\`${path}\` grew past \`fs.maxReadBytes\` (${max}) while read`);
      if (length === buffer.length) break;
    }
    return { path, content: buffer.subarray(0, length), bytes: length };
  } finally {
    closeSync(opened.fd);
  }
}

function listDirectory(scope: FsScope, agent: CompiledAgent | undefined, path: string): FsListOutput {
  const opened = openVerified(scope, agent, path, O_RDONLY | O_DIRECTORY);
  try {
    const entries: FsListOutput['entries'] = [];
    let hidden = 0;
    let truncated = false;
    for (const e of readdirSync(fdPath(opened.fd), { withFileTypes: true })) {
      if (scope.protectedBy(posix.join(opened.real, e.name))) {
        hidden++;
        continue;
      }
      if (entries.length >= scope.policy.maxListEntries) {
        truncated = true;
        break;
      }
      const type = e.isFile()
        ? 'file'
        : e.isDirectory()
          ? 'directory'
          : e.isSymbolicLink()
            ? 'symlink'
            : 'other';
      entries.push({ name: e.name, type });
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { path, entries, hidden, truncated };
  } finally {
    closeSync(opened.fd);
  }
}

function writeFile(
  scope: FsScope,
  agent: CompiledAgent | undefined,
  path: string,
  content: string,
): { path: string; bytes: number } {
  const data = Buffer.from(content, 'utf8');
  if (data.length > scope.policy.maxWriteBytes)
    throw new FsRefusal(
      'fs.too-large',
      `the content is ${data.length} bytes; \`fs.maxWriteBytes\` allows ${scope.policy.maxWriteBytes}`,
    );
  let parent: Parent;
  try {
    parent = openParent(scope, agent, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    ensureDirectory(scope, agent, posix.dirname(path), 0);
    parent = openParent(scope, agent, path);
  }
  try {
    let mode = 0o644;
    try {
      const st = lstatSync(parent.entry);
      if (st.isDirectory()) throw new FsRefusal('fs.not-a-file', `\`${path}\` is a directory`);
      if (st.isFile()) mode = st.mode & 0o777;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const temp = `${fdPath(parent.fd)}/.${parent.name}.warden-${randomBytes(6).toString('hex')}.tmp`;
    const fd = openSync(temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
    try {
      let offset = 0;
      while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
      fsyncSync(fd);
    } catch (error) {
      closeSync(fd);
      unlinkSync(temp);
      throw error;
    }
    closeSync(fd);
    // Both names resolve through the same verified descriptor: the rename stays in that directory.
    renameSync(temp, parent.entry);
    fsyncSync(parent.fd);
    return { path, bytes: data.length };
  } finally {
    closeSync(parent.fd);
  }
}

/**
 * Creates the missing directories of `dir` one by one, each inside its verified parent (the same
 * check as for a file), so a write can create the folders it needs without ever creating one
 * through a symlink out of the root.
 */
function ensureDirectory(scope: FsScope, agent: CompiledAgent | undefined, dir: string, depth: number): void {
  if (depth > 64) throw new FsRefusal('fs.invalid-path', `too many missing directories above \`${dir}\``);
  let parent: Parent;
  try {
    parent = openParent(scope, agent, dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    ensureDirectory(scope, agent, posix.dirname(dir), depth + 1);
    parent = openParent(scope, agent, dir);
  }
  try {
    mkdirSync(parent.entry, 0o755);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    closeSync(parent.fd);
  }
}

function deleteEntry(
  scope: FsScope,
  agent: CompiledAgent | undefined,
  path: string,
): { path: string; deleted: 'file' | 'directory' | 'symlink' } {
  const parent = openParent(scope, agent, path);
  try {
    const st = lstatSync(parent.entry);
    if (st.isDirectory()) {
      rmdirSync(parent.entry); // empty directories only: no recursive deletes
      return { path, deleted: 'directory' };
    }
    unlinkSync(parent.entry); // a symlink is removed itself, never its target
    return { path, deleted: st.isSymbolicLink() ? 'symlink' : 'file' };
  } finally {
    closeSync(parent.fd);
  }
}
