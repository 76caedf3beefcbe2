import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { type CgroupHost, detectCgroups } from './cgroups.js';
import { seccompProgram } from './seccomp.js';

/** What this host offers the bubblewrap backend, found once (a few ms) when a sandbox is made. */
export interface BwrapHost {
  bwrap: string;
  version: string;
  /** `prlimit` from util-linux: sets RLIMIT_FSIZE and RLIMIT_CORE without an extra shell. */
  prlimit: string | undefined;
  cgroups: CgroupHost | undefined;
  /** Whether the host has swap that a memory limit without a swap limit would leak into. */
  hostHasSwap: boolean;
  /** This bwrap supports `--size` for tmpfs (0.5+). */
  tmpfsSize: boolean;
  seccomp: Buffer | undefined;
  /** Run bwrap as this uid/gid (Warden runs as root: the sandbox never is), or undefined. */
  runAs: { uid: number; gid: number } | undefined;
  /** Top-level system directories: symlinks into /usr (merged /usr) or directories to bind. */
  systemDirs: { path: string; symlink?: string }[];
  /** The Node binary for `code.exec` javascript, and where it is bound inside. */
  node: { host: string; inside: string };
  python: string | undefined;
}

/** The uid and gid of `nobody` in Debian: the identity sandboxed commands run under. */
export const SANDBOX_UID = 65534;

/** Where the Node binary running Warden is inside a sandbox: itself under /usr, else bound at /opt/warden. */
export function nodeInside(): string {
  return process.execPath.startsWith('/usr/') ? process.execPath : '/opt/warden/bin/node';
}

export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  const dirs = [...path.split(delimiter), '/usr/bin', '/bin', '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  return undefined;
}

/**
 * Probes bubblewrap, cgroups, rlimit tooling and seccomp. Returns undefined with a reason when
 * bubblewrap is missing.
 */
export function probeBwrapHost(): { host?: BwrapHost; problem?: string } {
  probed ??= probe();
  return probed;
}

/** The host does not change while Warden runs: probed once per process. */
let probed: { host?: BwrapHost; problem?: string } | undefined;

function probe(): { host?: BwrapHost; problem?: string } {
  const bwrap = findOnPath('bwrap');
  if (!bwrap) {
    return {
      problem: 'bubblewrap is not installed: install it (Debian/Ubuntu: `apt-get install bubblewrap`)',
    };
  }
  const versionRun = spawnSync(bwrap, ['--version'], { encoding: 'utf8' });
  const version = versionRun.stdout.trim().replace(/^bubblewrap\s*/, '') || 'unknown';
  const help = spawnSync(bwrap, ['--help'], { encoding: 'utf8' }).stdout ?? '';
  const systemDirs: BwrapHost['systemDirs'] = [];
  for (const path of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    try {
      const st = lstatSync(path);
      if (st.isSymbolicLink()) {
        systemDirs.push({ path, symlink: readlinkSync(path) });
      } else if (st.isDirectory()) systemDirs.push({ path });
    } catch {
      // absent on this host
    }
  }
  const runAs = process.getuid?.() === 0 ? { uid: SANDBOX_UID, gid: SANDBOX_UID } : undefined;
  // One real start, as the sandbox's uid: hosts (and containers) that forbid unprivileged user
  // namespaces fail here, once, with bubblewrap's own words, instead of at every command.
  const smoke = spawnSync(
    bwrap,
    [
      '--unshare-all',
      '--unshare-user',
      '--ro-bind',
      '/usr',
      '/usr',
      ...systemDirs.flatMap((d) =>
        d.symlink ? ['--symlink', d.symlink, d.path] : ['--ro-bind', d.path, d.path],
      ),
      '--',
      'true',
    ],
    { encoding: 'utf8', timeout: 10_000, ...(runAs ?? {}) },
  );
  if (smoke.status !== 0) {
    const said = (smoke.stderr || smoke.error?.message || `exit ${smoke.status}`).trim();
    return {
      problem: `bubblewrap cannot create namespaces on this host (${said}): allow unprivileged user namespaces (sysctl user.max_user_namespaces > 0; kernel.unprivileged_userns_clone=1 on older Debian kernels; in a container, a seccomp/AppArmor profile that permits them)`,
    };
  }
  const nodeHost = process.execPath;
  const inside = nodeInside();
  const python = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => existsSync(p));
  return {
    host: {
      bwrap,
      version,
      prlimit: findOnPath('prlimit'),
      cgroups: detectCgroups(),
      hostHasSwap: hostHasSwap(),
      tmpfsSize: help.includes('--size'),
      seccomp: seccompProgram(),
      runAs,
      systemDirs,
      node: { host: nodeHost, inside },
      python,
    },
  };
}

function hostHasSwap(): boolean {
  try {
    const m = /^SwapTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'));
    return !!m && Number(m[1]) > 0;
  } catch {
    return true;
  }
}
