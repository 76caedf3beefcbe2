import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Per-run control groups: the real memory, CPU and process limits (rlimits cannot do these:
 * `RLIMIT_NPROC` is per user and ignored for uid 0, `RLIMIT_AS` breaks JITs).
 *
 * Two host layouts are supported, found once by `detectCgroups`:
 * - cgroup v2 with the `memory`, `cpu` and `pids` controllers delegated to Warden's own cgroup
 *   (`memory.max`, `memory.swap.max`, `cpu.max`, `pids.max`, `memory.peak`, `cgroup.kill`);
 * - cgroup v1 hierarchies (`memory.limit_in_bytes` + `memory.memsw.limit_in_bytes`,
 *   `cpu.cfs_quota_us`, `pids.max`, `memory.max_usage_in_bytes`, `cpuacct.usage`).
 * Groups are created under Warden's own cgroup of each controller, so the host's limits on Warden
 * still bound everything it runs. This file finds the layout; `RunCgroup` (run-cgroup.ts) is one
 * run's groups in it.
 */

export type CgroupVersion = 'v1' | 'v2';
/** A controller Warden limits or reads (cpuacct: CPU time on v1). */
export type Controller = 'memory' | 'cpu' | 'cpuacct' | 'pids';

export interface CgroupHost {
  version: CgroupVersion;
  /** Controllers that can be limited here: a subset of memory, cpu, pids. */
  controllers: ReadonlySet<'memory' | 'cpu' | 'pids'>;
  /** Whether swap can be forbidden (`memory.memsw.*` on v1, `memory.swap.max` on v2). */
  swapLimit: boolean;
  /** Directory under which per-run groups are made, per controller (v2: one directory). */
  bases: Readonly<Partial<Record<Controller, string>>>;
}

interface MountInfo {
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

function readMounts(): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const dash = line.indexOf(' - ');
    if (dash < 0) continue;
    const left = line.slice(0, dash).split(' ');
    const right = line.slice(dash + 3).split(' ');
    out.push({
      root: unescapeMount(left[3] ?? ''),
      mountPoint: unescapeMount(left[4] ?? ''),
      fsType: right[0] ?? '',
      superOptions: (right[2] ?? '').split(','),
    });
  }
  return out;
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

/** The path of a cgroup of this process inside a mount of its hierarchy, or undefined. */
function inMount(mount: MountInfo, cgroupPath: string): string | undefined {
  const root = mount.root === '/' ? '' : mount.root;
  if (root && cgroupPath !== root && !cgroupPath.startsWith(`${root}/`)) return undefined;
  return join(mount.mountPoint, cgroupPath.slice(root.length));
}

function writable(dir: string): boolean {
  const probe = join(dir, `warden-probe-${process.pid}`);
  try {
    mkdirSync(probe);
    rmdirSync(probe);
    return true;
  } catch {
    return false;
  }
}

/** What this host offers, or undefined when Warden can create no cgroup at all. */
export function detectCgroups(): CgroupHost | undefined {
  let lines: string[];
  let mounts: MountInfo[];
  try {
    lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n');
    mounts = readMounts();
  } catch {
    return undefined;
  }
  const v1 = detectV1(lines, mounts);
  const v2 = detectV2(lines, mounts);
  // Prefer the layout that limits more; v2 wins a tie (cgroup.kill, memory.peak).
  if (v2 && (!v1 || v2.controllers.size >= v1.controllers.size)) return v2;
  return v1;
}

function detectV1(lines: string[], mounts: MountInfo[]): CgroupHost | undefined {
  const bases: Partial<Record<Controller, string>> = {};
  for (const line of lines) {
    const [, list = '', path = ''] = line.split(/:(.*?):/);
    if (!list) continue;
    for (const controller of list.split(',')) {
      if (!['memory', 'cpu', 'cpuacct', 'pids'].includes(controller)) continue;
      const mount = mounts.find((m) => m.fsType === 'cgroup' && m.superOptions.includes(controller));
      const dir = mount && inMount(mount, path);
      if (dir && writable(dir)) bases[controller as Controller] = dir;
    }
  }
  const controllers = new Set<'memory' | 'cpu' | 'pids'>();
  if (bases.memory) controllers.add('memory');
  if (bases.cpu) controllers.add('cpu');
  if (bases.pids) controllers.add('pids');
  if (controllers.size === 0) return undefined;
  const swapLimit = !!bases.memory && exists(join(bases.memory, 'memory.memsw.limit_in_bytes'));
  return { version: 'v1', controllers, swapLimit, bases };
}

function detectV2(lines: string[], mounts: MountInfo[]): CgroupHost | undefined {
  const line = lines.find((l) => l.startsWith('0::'));
  const mount = mounts.find((m) => m.fsType === 'cgroup2');
  if (!line || !mount) return undefined;
  const own = inMount(mount, line.slice(3));
  if (!own) return undefined;
  let available: string[];
  try {
    available = readFileSync(join(own, 'cgroup.controllers'), 'utf8').trim().split(/\s+/);
  } catch {
    return undefined;
  }
  const wanted = (['memory', 'cpu', 'pids'] as const).filter((c) => available.includes(c));
  if (wanted.length === 0 || !writable(own)) return undefined;
  // Runs live in `<own>/warden-runs`, whose controllers are enabled in `<own>`. cgroup v2 lets a
  // group with processes enable controllers for its children only at the root, so a delegated
  // non-root group must hold no processes: Warden then moves itself into a leaf first.
  const runs = join(own, `warden-runs-${process.pid}`);
  try {
    enableControllers(own, wanted);
    mkdirSync(runs, { recursive: true });
    enableControllers(runs, wanted);
  } catch {
    return undefined;
  }
  const controllers = new Set(wanted);
  return {
    version: 'v2',
    controllers,
    swapLimit: exists(join(runs, 'memory.swap.max')) || !controllers.has('memory'),
    bases: { memory: runs, cpu: runs, pids: runs },
  };
}

function enableControllers(dir: string, controllers: readonly string[]): void {
  const line = controllers.map((c) => `+${c}`).join(' ');
  try {
    writeFileSync(join(dir, 'cgroup.subtree_control'), line);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EBUSY') throw error;
    // "No internal processes": move this process into a leaf, then enable.
    const leaf = join(dir, 'warden-supervisor');
    mkdirSync(leaf, { recursive: true });
    writeFileSync(join(leaf, 'cgroup.procs'), String(process.pid));
    writeFileSync(join(dir, 'cgroup.subtree_control'), line);
  }
}

function exists(path: string): boolean {
  try {
    readFileSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Lists leftover per-run groups of dead Warden processes (for cleanup at start). */
export function staleGroups(host: CgroupHost): string[] {
  const out: string[] = [];
  const bases = new Set(Object.values(host.bases));
  if (host.version === 'v2') {
    // v2 keeps each Warden process's runs under `warden-runs-<pid>`: a dead process's whole tree.
    for (const base of [...bases]) {
      const parent = dirname(base);
      try {
        for (const name of readdirSync(parent)) {
          const m = /^warden-runs-(\d+)$/.exec(name);
          if (m && !alive(Number(m[1]))) bases.add(join(parent, name));
        }
      } catch {
        // unreadable: nothing to clean
      }
    }
  }
  for (const base of bases) {
    try {
      for (const name of readdirSync(base)) {
        const m = /^warden-(\d+)-\d+$/.exec(name);
        if (m && !alive(Number(m[1]))) out.push(join(base, name));
      }
    } catch {
      // unreadable base: nothing to clean
    }
    if (/\/warden-runs-\d+$/.test(base) && !Object.values(host.bases).includes(base)) out.push(base); // after its children
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
