import type { Reason } from '../contract/decision.js';
import { type SandboxErrorCode, WardenError } from '../contract/errors.js';

/**
 * The sandbox extension point: runs one command, isolated and limited, and reports what happened.
 * Backends: `bwrap` (bubblewrap namespaces + cgroups + rlimits, milliseconds per run) and `docker`
 * (a container engine, where one answers). `chooseSandbox` picks one from the policy.
 */

/** A limit a run can hit. */
export type Violation = 'memory' | 'timeout' | 'output-cap' | 'pids' | 'file-size';

export type LimitName = 'memory' | 'cpu' | 'pids' | 'timeout' | 'output' | 'fileSize' | 'tmpSize' | 'network';

/** The limits of one run, in plain units. */
export interface SandboxLimits {
  memoryBytes: number;
  /** Cores: 0.5 is half of one core. */
  cpu: number;
  pids: number;
  timeoutMs: number;
  outputBytes: number;
  fileSizeBytes: number;
  tmpBytes: number;
}

export interface SandboxRequest {
  /** The program and its arguments, run inside; `argv[0]` is looked up on the sandbox's PATH. */
  argv: readonly string[];
  /** Bytes given on stdin (default: none, stdin is empty). */
  stdin?: string | Buffer;
  /** Aborts the run: the whole tree is killed and the result has `aborted: true`. */
  signal?: AbortSignal;
  /** Ends the run earlier than `limits.timeout` (epoch ms), e.g. the pipeline's deadline. */
  deadline?: number;
}

export interface SandboxStream {
  text: string;
  /** Bytes produced before the cap, counted even when not kept. */
  bytes: number;
  truncated: boolean;
}

/** What one run did: the executor's output, recorded in the audit log and returned to the agent. */
export interface SandboxResult {
  backend: string;
  /** Exit code of the command, or null when a signal ended it. */
  exitCode: number | null;
  signal: string | null;
  stdout: SandboxStream;
  stderr: SandboxStream;
  durationMs: number;
  /** Peak memory of the whole tree, when the backend can read it. */
  peakMemoryBytes: number | null;
  /** CPU time of the whole tree, when the backend can read it. */
  cpuMs: number | null;
  /** Limits the run hit; empty when it finished within all of them. */
  violations: Violation[];
  /** Each limit and what enforced it (`cgroup-v1`, `cgroup-v2`, `rlimit`, `tmpfs`, `netns`, …). */
  enforced: Partial<Record<LimitName, string>>;
  /** Limits that were not enforced (only with `unenforceable: report`). */
  unenforced: LimitName[];
  /** The run was stopped by its caller (kill switch, pipeline deadline). */
  aborted: boolean;
}

/**
 * How one run ended, a small fixed set for metrics: `ok` (exit 0), `failed` (another exit
 * status or a signal of its own), `limit` (it hit a limit: see `violations`), `aborted` (stopped by
 * its caller: kill switch, pipeline deadline), `error` (refused, or the sandbox could not start it).
 */
export type SandboxOutcome = 'ok' | 'failed' | 'limit' | 'aborted' | 'error';

/** A run's outcome; a limit hit wins over an abort, since the run had already met it. */
export function sandboxOutcome(result: SandboxResult): Exclude<SandboxOutcome, 'error'> {
  if (result.violations.length > 0) return 'limit';
  if (result.aborted) return 'aborted';
  return result.exitCode === 0 ? 'ok' : 'failed';
}

/** One run of Warden's `shell.exec` / `code.exec` executors, as their listener hears it. */
export interface SandboxRun {
  /** `bwrap` or `docker`. */
  backend: string;
  outcome: SandboxOutcome;
  /** The limits it hit (`SandboxResult.violations`); empty when it did not run. */
  violations: readonly Violation[];
}

/** Hears each run once it has ended (the monitor counts them). Must be cheap and must not throw. */
export type SandboxRunListener = (run: SandboxRun) => void;

/** What a backend can do on this host, found once when it is created. */
export interface SandboxInfo {
  backend: string;
  /** Human summary for startup lines: `bwrap 0.8.0, cgroup v1 (memory, cpu, pids), seccomp`. */
  summary: string;
  enforced: Partial<Record<LimitName, string>>;
  /** Limits the policy asks for that this host cannot enforce. */
  unenforceable: LimitName[];
}

export interface Sandbox {
  readonly info: SandboxInfo;
  run(request: SandboxRequest): Promise<SandboxResult>;
  close(): Promise<void>;
}

/** A run refused before it started, with a stable reason code. */
export class SandboxError extends WardenError {
  override readonly name = 'SandboxError';
  constructor(
    override readonly code: SandboxErrorCode,
    message: string,
  ) {
    super(code, message, { stage: 'execute' });
  }

  /** The reason the execute stage reports (see `execute`). */
  get reason(): Reason {
    return { code: this.code, stage: 'execute', message: this.message };
  }
}
