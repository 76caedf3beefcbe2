import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SandboxPolicy } from '../policy/sections/sandbox.js';
import { bwrapArgs, type NetworkBridge, WORKSPACE } from './bwrap-args.js';
import { type BwrapHost, probeBwrapHost, SANDBOX_UID } from './bwrap-host.js';
import { describeBwrap, unenforceableMessage } from './bwrap-info.js';
import { BwrapRun } from './bwrap-run.js';
import { staleGroups } from './cgroups.js';
import { limitsFromPolicy, runTimeout } from './limits.js';
import { RunCgroup } from './run-cgroup.js';
import type { Sandbox, SandboxInfo, SandboxLimits, SandboxRequest, SandboxResult } from './sandbox.js';
import { SandboxError } from './sandbox.js';
import { buildSandboxEtc } from './sandbox-etc.js';

export type { NetworkBridge } from './bwrap-args.js';
export { WORKSPACE } from './bwrap-args.js';

/**
 * The bubblewrap backend: every run gets new user, pid, network, ipc, uts, mount and cgroup
 * namespaces; read-only system binds; a private size-limited `/workspace` and `/tmp`; a cleared
 * environment; uid 65534 with no capabilities; a seccomp filter; and a per-run cgroup (memory,
 * CPU, pids) entered before the command starts. See docs/sandbox.md for what enforces what.
 */
export class BwrapSandbox implements Sandbox {
  readonly info: SandboxInfo;
  readonly limits: SandboxLimits;
  readonly host: BwrapHost;
  readonly #policy: SandboxPolicy;
  /** Made at the first run (a Warden that never runs a command leaves nothing on disk). */
  #runtime = '';
  /** Everything before the per-run arguments, computed once. */
  #prefix: string[] = [];
  readonly #command: string;
  #seccompFile: string | undefined;
  readonly #network: NetworkBridge | undefined;
  #closed = false;
  /** Pre-started sandboxes, each a shell waiting for its command (`sandbox.warm`). */
  readonly #pool: BwrapRun[] = [];

  constructor(policy: SandboxPolicy, host: BwrapHost, network?: NetworkBridge) {
    this.#policy = policy;
    this.host = host;
    this.limits = limitsFromPolicy(policy);
    this.#network = network;
    this.info = describeBwrap(host, policy, !!(host.seccomp && policy.seccomp), network);
    this.#command = host.prlimit ?? host.bwrap;
  }

  /** The runtime directory (identity files, seccomp program) and the fixed arguments. */
  #prepare(): void {
    const host = this.host;
    removeStaleRuntimeDirs();
    this.#runtime = mkdtempSync(join(tmpdir(), `warden-sandbox-${process.pid}-`));
    chmodSync(this.#runtime, 0o711);
    buildSandboxEtc(join(this.#runtime, 'etc'), { uid: SANDBOX_UID, home: WORKSPACE });
    if (host.seccomp && this.#policy.seccomp) {
      this.#seccompFile = join(this.#runtime, 'seccomp.bpf');
      writeFileSync(this.#seccompFile, host.seccomp, { mode: 0o644 });
    }
    if (host.cgroups) {
      for (const dir of staleGroups(host.cgroups)) {
        try {
          rmdirSync(dir);
        } catch {
          // busy or gone: not ours to force
        }
      }
    }
    const fsize = this.limits.fileSizeBytes;
    const rlimits = host.prlimit ? [`--fsize=${fsize}:${fsize}`, '--core=0:0', '--', host.bwrap] : [];
    this.#prefix = [
      ...rlimits,
      ...bwrapArgs({
        host,
        policy: this.#policy,
        limits: this.limits,
        etc: join(this.#runtime, 'etc'),
        ...(this.#network ? { network: this.#network } : {}),
      }),
    ];
  }

  /** The host directory holding this sandbox's `/etc` and seccomp program ('' before the first run). */
  get runtimeDir(): string {
    return this.#runtime;
  }

  /** The interpreter path inside the sandbox for `code.exec`. */
  interpreter(language: 'python' | 'javascript'): string {
    if (language === 'javascript') return this.host.node.inside;
    if (!this.host.python)
      throw new SandboxError(
        'sandbox.unavailable',
        'python3 is not installed on this host (Debian: `apt-get install python3`)',
      );
    return this.host.python;
  }

  async run(request: SandboxRequest): Promise<SandboxResult> {
    if (this.#closed) throw new SandboxError('sandbox.unavailable', 'the sandbox is closed');
    if (this.info.unenforceable.length > 0 && this.#policy.unenforceable === 'refuse') {
      throw new SandboxError('sandbox.limit-unenforceable', unenforceableMessage(this.info));
    }
    if (request.argv.length === 0)
      throw new SandboxError('sandbox.invalid', 'empty command: expected a program to run');
    if (request.signal?.aborted)
      throw new SandboxError('execute.aborted', 'the run was aborted before it started');
    const started = performance.now();
    const timeoutMs = runTimeout(this.limits.timeoutMs, request.deadline);
    if (!this.#runtime) this.#prepare();
    let warm: BwrapRun | undefined;
    while (!warm && this.#pool.length > 0) {
      const candidate = this.#pool.shift() as BwrapRun;
      if (candidate.usable) warm = candidate;
    }
    if (this.#policy.warm > 0) setImmediate(() => this.#fill());
    if (warm) return warm.begin(request, timeoutMs, started, warmInput(request.argv, request.stdin));
    const run = this.#launch(request.argv, request.stdin !== undefined);
    return run.begin(request, timeoutMs, started, request.stdin);
  }

  /** Keeps `sandbox.warm` sandboxes started, each with a shell waiting for its command. */
  #fill(): void {
    while (!this.#closed && this.#pool.length < this.#policy.warm) {
      let run: BwrapRun;
      try {
        run = this.#launch(['/bin/sh', '-c', WARM_SHELL], true);
      } catch {
        return; // the next run starts cold and says what failed
      }
      run.unref();
      this.#pool.push(run);
    }
  }

  /** Spawns bubblewrap for `argv` in fresh cgroups (the command waits to be released). */
  #launch(argv: readonly string[], stdin: boolean): BwrapRun {
    const cgroup = this.host.cgroups ? RunCgroup.create(this.host.cgroups, this.limits) : undefined;
    const args = [...this.#prefix];
    const stdio: (number | 'pipe' | 'ignore')[] = [stdin ? 'pipe' : 'ignore', 'pipe', 'pipe', 'pipe', 'pipe'];
    let seccomp: number | undefined;
    let child: ChildProcess;
    try {
      if (this.#seccompFile) {
        seccomp = openSync(this.#seccompFile, 'r');
        args.push('--seccomp', String(stdio.length));
        stdio.push(seccomp);
      }
      args.push('--', ...(this.#network ? this.#network.wrap(argv) : argv));
      child = spawn(this.#command, args, {
        stdio,
        env: { PATH: '/usr/bin:/bin' },
        ...(this.host.runAs ?? {}),
      });
    } catch (error) {
      cgroup?.remove();
      throw error;
    } finally {
      if (seccomp !== undefined) closeSync(seccomp);
    }
    // Moving bubblewrap's outer process at once overlaps the cgroup moves with its start; the
    // child it clones inherits them. The child is checked, and moved where it is not yet,
    // before it is released.
    // (A failure is left to the child's own check: the outer process may simply have exited.)
    const entering =
      cgroup && child.pid ? cgroup.enterAsync(child.pid).catch(() => undefined) : Promise.resolve();
    return new BwrapRun(child, cgroup, this.limits, this.info, entering);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const idle = this.#pool.splice(0);
    for (const run of idle) {
      run.ref(); // so that the process waits for them to be gone
      run.kill();
    }
    await Promise.all(idle.map((run) => run.exited));
    await this.#network?.close();
    if (this.#runtime) rmSync(this.#runtime, { recursive: true, force: true });
  }
}

/** Creates the bubblewrap backend, or throws `SandboxError` saying what to install. */
export function createBwrapSandbox(policy: SandboxPolicy, network?: NetworkBridge): BwrapSandbox {
  const { host, problem } = probeBwrapHost();
  if (!host) throw new SandboxError('sandbox.unavailable', problem ?? 'bubblewrap is not usable here');
  if (policy.workspace) {
    let ok = false;
    try {
      ok = statSync(policy.workspace).isDirectory();
    } catch {
      ok = false;
    }
    if (!ok)
      throw new SandboxError(
        'sandbox.unavailable',
        `sandbox.workspace \`${policy.workspace}\` is not a directory: create it (owned by uid ${SANDBOX_UID} when Warden runs as root)`,
      );
  }
  return new BwrapSandbox(policy, host, network);
}

/** Runtime directories of Warden processes that died without `close()` (their pid is in the name). */
function removeStaleRuntimeDirs(): void {
  try {
    for (const name of readdirSync(tmpdir())) {
      const m = /^warden-sandbox-(\d+)-/.exec(name);
      if (!m || Number(m[1]) === process.pid) continue;
      try {
        process.kill(Number(m[1]), 0);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ESRCH')
          rmSync(join(tmpdir(), name), { recursive: true, force: true });
      }
    }
  } catch {
    // an unreadable temp directory: nothing to clean
  }
}

/**
 * The shell of a pre-started sandbox: reads a line count, then that many lines holding the
 * command (each argument single-quoted), and `exec`s it. dash reads a pipe a byte at a time, so
 * what follows the command stays on stdin for it.
 */
const WARM_SHELL = `IFS= read -r n || exit 125
c=''
while [ "$n" -gt 0 ]; do IFS= read -r l || exit 125; c="$c$l
"; n=$((n - 1)); done
eval "exec $c"`;

/** What a pre-started sandbox's shell reads: the quoted command, then the command's stdin. */
function warmInput(argv: readonly string[], stdin: string | Buffer | undefined): Buffer {
  const command = argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const lines = command.split('\n');
  const head = Buffer.from(`${lines.length}\n${lines.join('\n')}\n`);
  return stdin === undefined ? head : Buffer.concat([head, Buffer.from(stdin)]);
}
