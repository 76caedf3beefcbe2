import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CgroupHost, Controller } from './cgroups.js';
import type { SandboxLimits } from './sandbox.js';

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
