import { existsSync } from 'node:fs';
import type { SandboxPolicy } from '../policy/sections/sandbox.js';
import { type BwrapHost, SANDBOX_UID } from './bwrap-host.js';
import type { SandboxLimits } from './sandbox.js';
import { ETC_BOUND_DIRS } from './sandbox-etc.js';

/** Where the workspace is inside the sandbox; commands start there. */
export const WORKSPACE = '/workspace';

const DEVICES = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom'];
const DEV_LINKS: ReadonlyArray<[string, string]> = [
  ['/dev/fd', '/proc/self/fd'],
  ['/dev/stdin', '/proc/self/fd/0'],
  ['/dev/stdout', '/proc/self/fd/1'],
  ['/dev/stderr', '/proc/self/fd/2'],
  ['/dev/shm', '/tmp'], // POSIX shared memory lives in the sized /tmp
];

/** What a network bridge (the allowlisting proxy) adds to a run. */
export interface NetworkBridge {
  readonly description: string;
  /** bwrap arguments (binds of the proxy socket and the forwarder). */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Wraps the command so that the in-sandbox forwarder runs first. */
  wrap(argv: readonly string[]): string[];
  close(): Promise<void>;
}

export interface BwrapArgsOptions {
  host: BwrapHost;
  policy: SandboxPolicy;
  limits: SandboxLimits;
  /** The sandbox's own /etc directory (see `buildSandboxEtc`). */
  etc: string;
  network?: NetworkBridge;
}

/**
 * bubblewrap's arguments for every run of one sandbox, computed once: namespaces, identity,
 * binds, the private file systems, the environment, and the info/block fds. The per-run parts
 * (seccomp fd, command) are appended by `BwrapSandbox.run`.
 */
export function bwrapArgs(o: BwrapArgsOptions): string[] {
  const h = o.host;
  const args = [
    '--unshare-all',
    '--unshare-user',
    '--die-with-parent',
    '--new-session',
    '--cap-drop',
    'ALL',
    '--uid',
    String(SANDBOX_UID),
    '--gid',
    String(SANDBOX_UID),
    '--hostname',
    'sandbox',
    '--ro-bind',
    '/usr',
    '/usr',
  ];
  for (const dir of h.systemDirs) {
    if (dir.symlink) args.push('--symlink', dir.symlink, dir.path);
    else args.push('--ro-bind', dir.path, dir.path);
  }
  args.push('--ro-bind', o.etc, '/etc');
  for (const dir of ETC_BOUND_DIRS) if (existsSync(dir)) args.push('--ro-bind', dir, dir);
  if (h.node.inside !== h.node.host) args.push('--ro-bind', h.node.host, h.node.inside);
  const size = String(o.limits.tmpBytes);
  const sized = h.tmpfsSize ? ['--size', size] : [];
  // A minimal /dev on the read-only root: five device binds and links. (bwrap's `--dev` is a
  // writable tmpfs of no size plus devpts and more mounts: slower to start, and a place to fill.)
  args.push('--proc', '/proc');
  for (const dev of DEVICES) args.push('--dev-bind', dev, dev);
  for (const [link, target] of DEV_LINKS) args.push('--symlink', target, link);
  args.push(...sized, '--tmpfs', '/tmp');
  if (o.policy.workspace) args.push('--bind', o.policy.workspace, WORKSPACE);
  else args.push(...sized, '--tmpfs', WORKSPACE);
  if (o.network) args.push(...o.network.args);
  args.push('--remount-ro', '/', '--chdir', WORKSPACE, '--clearenv');
  const env: Record<string, string> = {
    PATH: '/usr/local/bin:/usr/bin:/bin',
    HOME: WORKSPACE,
    TMPDIR: '/tmp',
    LANG: 'C.UTF-8',
    ...o.network?.env,
    ...o.policy.env,
  };
  for (const [name, value] of Object.entries(env)) args.push('--setenv', name, value);
  // bwrap writes its child's pid to fd 3, and the child blocks reading fd 4 until it is in its
  // cgroup, so nothing the command runs escapes the limits. (One fd for both does not work:
  // the child closes the info fd before it reads the block fd.)
  args.push('--info-fd', '3', '--block-fd', '4');
  return args;
}
