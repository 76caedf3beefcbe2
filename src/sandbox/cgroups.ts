import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { readFile, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { SandboxLimits } from './sandbox.js';

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
 * still bound everything it runs.
 */

export type CgroupVersion = 'v1' | 'v2';
type Controller = 'memory' | 'cpu' | 'cpuacct' | 'pids';

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

let sequence = 0;

/** One run's control groups: made with the limits set, entered by pid, read, killed, removed. */
export class RunCgroup {
  readonly #host: CgroupHost;
  /** Directory per controller; on v2 all the same one. */
  readonly #dirs: Partial<Record<Controller, string>> = {};
  readonly #unique: string[];
  readonly #name: string;

  private constructor(host: CgroupHost, name: string) {
    this.#host = host;
    this.#name = name;
    const unique = new Set<string>();
    for (const [controller, base] of Object.entries(host.bases) as [Controller, string][]) {
      const dir = join(base, name);
      this.#dirs[controller] = dir;
      unique.add(dir);
    }
    this.#unique = [...unique];
  }

  /** Creates the groups with `limits` applied. Throws when a limit cannot be written. */
  static create(host: CgroupHost, limits: SandboxLimits): RunCgroup {
    const group = new RunCgroup(host, `warden-${process.pid}-${++sequence}`);
    try {
      for (const dir of group.#unique) mkdirSync(dir);
      group.#apply(limits);
    } catch (error) {
      group.remove();
      throw error;
    }
    return group;
  }

  #apply(limits: SandboxLimits): void {
    const d = this.#dirs;
    const c = this.#host.controllers;
    const periodUs = 100_000;
    const quotaUs = Math.max(1000, Math.round(limits.cpu * periodUs));
    if (this.#host.version === 'v1') {
      if (c.has('memory') && d.memory) {
        writeFileSync(join(d.memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
        if (this.#host.swapLimit)
          writeFileSync(join(d.memory, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
      }
      if (c.has('cpu') && d.cpu) {
        writeFileSync(join(d.cpu, 'cpu.cfs_period_us'), String(periodUs));
        writeFileSync(join(d.cpu, 'cpu.cfs_quota_us'), String(quotaUs));
      }
      if (c.has('pids') && d.pids) writeFileSync(join(d.pids, 'pids.max'), String(limits.pids));
      return;
    }
    const dir = d.memory ?? d.cpu ?? d.pids;
    if (!dir) return;
    if (c.has('memory')) {
      writeFileSync(join(dir, 'memory.max'), String(limits.memoryBytes));
      if (this.#host.swapLimit) writeFileSync(join(dir, 'memory.swap.max'), '0');
    }
    if (c.has('cpu')) writeFileSync(join(dir, 'cpu.max'), `${quotaUs} ${periodUs}`);
    if (c.has('pids')) writeFileSync(join(dir, 'pids.max'), String(limits.pids));
  }

  /**
   * Moves `pid` (and the children it forks from now on) into every group, off the event loop:
   * each move takes the kernel's cgroup lock for writing, which can
   * wait for an RCU grace period (~15 ms on a VM) when the lock was idle. The writes run on
   * libuv's thread pool, in parallel, so the wait blocks neither Warden nor the other moves.
   */
  async enterAsync(pid: number): Promise<void> {
    await Promise.all(this.#unique.map((dir) => writeFile(join(dir, 'cgroup.procs'), String(pid))));
  }

  /**
   * Moves `pid` into the groups it is not in yet: it inherited those its parent was already in
   * when it was forked, and moves are worth skipping (see `enterAsync`).
   */
  async enterMissingAsync(pid: number): Promise<void> {
    let lines: string[];
    try {
      lines = (await readFile(`/proc/${pid}/cgroup`, 'utf8')).split('\n');
    } catch {
      return this.enterAsync(pid);
    }
    const missing = (Object.entries(this.#dirs) as [Controller, string][]).filter(
      ([controller]) =>
        !lines.some(
          (line) =>
            line.endsWith(`/${this.#name}`) &&
            (this.#host.version === 'v2'
              ? line.startsWith('0::')
              : line.split(':')[1]?.split(',').includes(controller)),
        ),
    );
    await Promise.all(missing.map(([, dir]) => writeFile(join(dir, 'cgroup.procs'), String(pid))));
  }

  /** Peak memory of the tree in bytes, or null. */
  peakMemory(): number | null {
    const dir = this.#dirs.memory;
    if (!dir) return null;
    const file = this.#host.version === 'v1' ? 'memory.max_usage_in_bytes' : 'memory.peak';
    const n = readNumber(join(dir, file));
    return n;
  }

  /** CPU time of the tree in ms, or null. */
  cpuMs(): number | null {
    if (this.#host.version === 'v1') {
      const dir = this.#dirs.cpuacct;
      const ns = dir ? readNumber(join(dir, 'cpuacct.usage')) : null;
      return ns === null ? null : ns / 1e6;
    }
    const dir = this.#dirs.cpu;
    if (!dir) return null;
    const usec = readKey(join(dir, 'cpu.stat'), 'usage_usec');
    return usec === null ? null : usec / 1000;
  }

  /** Whether the kernel's OOM killer acted in this group. */
  oomKilled(): boolean {
    const dir = this.#dirs.memory;
    if (!dir) return false;
    const n =
      this.#host.version === 'v1'
        ? readKey(join(dir, 'memory.oom_control'), 'oom_kill')
        : readKey(join(dir, 'memory.events'), 'oom_kill');
    if (n !== null) return n > 0;
    // v1 kernels without the counter: the limit was reached at least once.
    return this.#host.version === 'v1' && (readNumber(join(dir, 'memory.failcnt')) ?? 0) > 0;
  }

  /** Whether a fork was refused because the process limit was reached. */
  pidsLimited(): boolean {
    const dir = this.#dirs.pids;
    if (!dir) return false;
    return (readKey(join(dir, 'pids.events'), 'max') ?? 0) > 0;
  }

  /** Kills every process in the groups (v2: `cgroup.kill`; v1: SIGKILL to each pid, until none is left). */
  killAll(): void {
    const pidsDir = this.#dirs.pids ?? this.#dirs.memory ?? this.#dirs.cpu;
    if (!pidsDir) return;
    if (this.#host.version === 'v2') {
      try {
        writeFileSync(join(pidsDir, 'cgroup.kill'), '1');
        return;
      } catch {
        // Kernels before 5.14 have no cgroup.kill: fall through to the sweep.
      }
    }
    for (let round = 0; round < 20; round++) {
      const pids = this.pids();
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
  }

  /** Pids still in the groups. */
  pids(): number[] {
    const dir = this.#dirs.pids ?? this.#dirs.memory ?? this.#dirs.cpu;
    if (!dir) return [];
    try {
      return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  }

  /** Removes the groups; a group that still holds dying processes is retried briefly. */
  remove(): void {
    for (const dir of this.#unique) {
      for (let attempt = 0; ; attempt++) {
        try {
          rmdirSync(dir);
          break;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || attempt >= 50) break;
          this.killAll();
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2);
        }
      }
    }
  }

  /**
   * `remove` off the event loop, in parallel: removing a group can wait ~15 ms for the kernel
   * (an RCU grace period), which a result need not wait for. Never rejects.
   */
  async removeAsync(): Promise<void> {
    await Promise.all(
      this.#unique.map(async (dir) => {
        for (let attempt = 0; attempt < 50; attempt++) {
          try {
            await rmdir(dir);
            return;
          } catch (error) {
            const code = (error as NodeJS.ErrnoException).code;
            if (code === 'ENOENT' || code !== 'EBUSY') return;
            this.killAll();
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        }
      }),
    );
  }
}

function readNumber(path: string): number | null {
  try {
    const n = Number(readFileSync(path, 'utf8').trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

function readKey(path: string, key: string): number | null {
  try {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const [k, v] = line.split(/\s+/);
      if (k === key) return Number(v);
    }
    return null;
  } catch {
    return null;
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
