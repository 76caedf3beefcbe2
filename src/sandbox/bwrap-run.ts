import type { ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { signalName, violationNotice } from './limits.js';
import { OutputCapture } from './output-capture.js';
import { noLiveChildren, processStart, readStat, tryKill } from './process-tree.js';
import type { RunCgroup } from './run-cgroup.js';
import type { SandboxInfo, SandboxLimits, SandboxRequest, SandboxResult, Violation } from './sandbox.js';
import { SandboxError } from './sandbox.js';

/**
 * One bubblewrap process, from spawn to result: moves its child into the run's cgroups and
 * releases it, captures the streams up to the cap, kills the whole tree on a limit, the timeout
 * or an abort, and turns the exit into a `SandboxResult` (reading the cgroups, then removing
 * them). A pre-started run (see `BwrapSandbox`'s pool) is made first and begun later.
 */
export class BwrapRun {
  readonly #child: ChildProcess;
  readonly #cgroup: RunCgroup | undefined;
  readonly #limits: SandboxLimits;
  readonly #info: SandboxInfo;
  readonly #violations = new Set<Violation>();
  readonly #stdout: OutputCapture;
  readonly #stderr: OutputCapture;
  #innerPid: number | undefined;
  #innerStart: string | undefined;
  #killed = false;
  #aborted = false;
  #setupError: Error | undefined;
  #fallback: NodeJS.Timeout | undefined;
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  #onExit: (() => void) | undefined;
  /** Settles when the process has exited and its cgroups are gone. */
  readonly exited: Promise<void>;

  /**
   * @param entering the move of bubblewrap's outer process into `cgroup`, begun at spawn; the
   * child is released only after it and the child's own moves are done.
   */
  constructor(
    child: ChildProcess,
    cgroup: RunCgroup | undefined,
    limits: SandboxLimits,
    info: SandboxInfo,
    entering: Promise<void> = Promise.resolve(),
  ) {
    this.#child = child;
    this.#cgroup = cgroup;
    this.#limits = limits;
    this.#info = info;
    const onCap = () => {
      this.#violations.add('output-cap');
      this.kill();
    };
    this.#stdout = new OutputCapture(child.stdout as Readable, limits.outputBytes, onCap);
    this.#stderr = new OutputCapture(child.stderr as Readable, limits.outputBytes, onCap);
    const control = child.stdio[3] as Readable;
    const release = child.stdio[4] as Writable;
    release.on('error', () => undefined);
    control.on('error', () => undefined);
    let text = '';
    control.on('data', (chunk: Buffer) => {
      if (this.#innerPid !== undefined) return;
      text += chunk.toString('utf8');
      const match = /"child-pid"\s*:\s*(\d+)\s*[,}]/.exec(text);
      if (!match) return;
      const inner = Number(match[1]);
      this.#innerPid = inner;
      this.#innerStart = processStart(inner);
      const released = async () => {
        await entering; // the child is checked below either way
        if (!this.#killed) await cgroup?.enterMissingAsync(inner);
        // Stopped before it was released: it never runs.
        if (this.#killed) this.kill();
        else release.end('go');
      };
      released().catch((error: Error) => {
        this.#setupError = error;
        this.kill();
      });
    });
    this.exited = new Promise<void>((resolve) => {
      child.on('error', (error) => {
        this.#setupError = error;
        // A process that never started emits no 'close': settle here.
        if (child.pid === undefined) this.#finish(null, null, resolve);
      });
      child.on('close', (code, signal) => this.#finish(code, signal, resolve));
    });
  }

  /** Whether the process is still there to be begun. */
  get usable(): boolean {
    return this.#exit === undefined && !this.#killed && this.#child.exitCode === null;
  }

  /** Kills the whole tree (idempotent). */
  kill(): void {
    this.#killed = true;
    if (this.#innerPid === undefined) {
      // Not released yet: the command cannot have started. Killing bubblewrap's outer process
      // now could orphan its child before it set its parent-death signal, blocked forever on
      // the release fd; the info arrives within moments and kills the child (see above).
      this.#fallback ??= setTimeout(() => tryKill(this.#child.pid), 1000);
      return;
    }
    // The pid namespace dies with its init: every process the command made, daemons included.
    tryKill(this.#innerPid);
    tryKill(this.#child.pid);
    this.#cgroup?.killAll();
  }

  /** Keeps an idle pre-started run from holding the event loop open (Warden exits without it). */
  unref(): void {
    this.#child.unref();
    for (const stream of this.#child.stdio) (stream as { unref?: () => void } | null)?.unref?.();
  }

  /** Undoes `unref`: the event loop waits for this run again. */
  ref(): void {
    this.#child.ref();
    for (const stream of this.#child.stdio) (stream as { ref?: () => void } | null)?.ref?.();
  }

  #finish(code: number | null, signal: NodeJS.Signals | null, resolve: () => void): void {
    if (this.#exit) return;
    clearTimeout(this.#fallback);
    this.#exit = { code, signal };
    this.#onExit?.();
    const cgroup = this.#cgroup;
    if (!this.#onExit) {
      // Never begun (a pre-started run, closed): nothing to report.
      cgroup?.killAll();
      (cgroup?.removeAsync() ?? Promise.resolve()).then(resolve);
      return;
    }
    resolve();
  }

  /**
   * Starts timing the run: the timeout, the caller's abort, and `input` on stdin (for a
   * pre-started run, the command lines first). Resolves with the result once the tree is gone.
   */
  begin(
    request: SandboxRequest,
    timeoutMs: number,
    started: number,
    input?: string | Buffer,
  ): Promise<SandboxResult> {
    this.ref();
    if (input !== undefined) {
      const stdin = this.#child.stdin as Writable;
      stdin.on('error', () => undefined); // the command may exit without reading it
      stdin.end(input);
    }
    return new Promise<SandboxResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#violations.add('timeout');
        this.kill();
      }, timeoutMs);
      const onAbort = () => {
        this.#aborted = true;
        this.kill();
      };
      request.signal?.addEventListener('abort', onAbort, { once: true });
      this.#onExit = () => {
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
        // bubblewrap's outer process exits as soon as its init reports the command's status,
        // which can be before the kernel has killed the rest of the pid namespace (a daemon the
        // command left): the result waits until the init, and so the whole namespace, is gone.
        this.#namespaceGone().then(() => {
          try {
            resolve(this.#result(started));
          } catch (error) {
            reject(error);
          }
        });
      };
      if (this.#exit) this.#onExit();
    });
  }

  /**
   * Resolves once nothing of the run is left in its pid namespace. Every process there descends
   * from bubblewrap's init, and orphans are reparented to it, so once the command has exited
   * (bubblewrap has reported it) the namespace is empty when the init has no live children, or
   * when the init itself is gone, a zombie, or its pid reused. The init is not Node's child, so
   * this is polled from /proc. Waiting for the init itself to exit would also wait for the
   * kernel to tear down the sandbox's mount namespace (milliseconds); its children list answers
   * at once in the usual case. After two seconds the tree is killed again and the wait continues
   * for as long again, then gives up (the cgroup kill stands).
   */
  async #namespaceGone(): Promise<void> {
    const pid = this.#innerPid;
    if (pid === undefined) return;
    const started = Date.now();
    let killedAgain = false;
    for (let attempt = 0; ; attempt++) {
      const stat = readStat(pid);
      if (stat === undefined || stat.state === 'Z' || stat.state === 'X') return;
      if (this.#innerStart !== undefined && stat.start !== this.#innerStart) return;
      if (noLiveChildren(pid)) return;
      const waited = Date.now() - started;
      if (waited > 2000 && !killedAgain) {
        killedAgain = true;
        this.kill();
      } else if (waited > 4000) return;
      await new Promise((resolve) => setTimeout(resolve, attempt < 50 ? 1 : 10));
    }
  }

  #result(started: number): SandboxResult {
    const cgroup = this.#cgroup;
    const { code, signal } = this.#exit as { code: number | null; signal: NodeJS.Signals | null };
    const durationMs = performance.now() - started;
    const peakMemoryBytes = cgroup?.peakMemory() ?? null;
    const cpuMs = cgroup?.cpuMs() ?? null;
    if (cgroup?.oomKilled()) this.#violations.add('memory');
    if (cgroup?.pidsLimited()) this.#violations.add('pids');
    cgroup?.killAll();
    void cgroup?.removeAsync(); // after the result: nothing left to read
    if (this.#setupError || this.#innerPid === undefined) {
      const detail =
        this.#setupError?.message ?? (this.#stderr.result().text.trim() || `exit ${code ?? signal}`);
      throw new SandboxError('sandbox.error', `the sandbox could not start the command: ${detail}`);
    }
    const killed = this.#killed;
    const sig = killed
      ? 'SIGKILL'
      : (signal ?? (code !== null && code > 128 ? signalName(code - 128) : null));
    const err = this.#stderr.result();
    if (sig === 'SIGXFSZ' || /File too large|File size limit exceeded|No space left on device/.test(err.text))
      this.#violations.add('file-size');
    const result: SandboxResult = {
      backend: 'bwrap',
      exitCode: killed ? null : code,
      signal: sig,
      stdout: this.#stdout.result(),
      stderr: err,
      durationMs,
      peakMemoryBytes,
      cpuMs,
      violations: [...this.#violations],
      enforced: this.#info.enforced,
      unenforced: this.#info.unenforceable,
      aborted: this.#aborted,
    };
    if (result.violations.length > 0) {
      const notice = violationNotice(result, this.#limits);
      result.stderr = { ...err, text: err.text ? `${err.text.replace(/\n?$/, '\n')}${notice}` : notice };
    }
    return result;
  }
}
