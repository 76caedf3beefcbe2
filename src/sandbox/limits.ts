import { constants } from 'node:os';
import type { SandboxPolicy } from '../policy/sections/sandbox.js';
import { sizeBytes } from '../policy/sections/sandbox.js';
import type { LimitName, SandboxLimits, SandboxResult, Violation } from './sandbox.js';

/** The policy's limits in plain units, computed once at load. */
export function limitsFromPolicy(policy: SandboxPolicy): SandboxLimits {
  const l = policy.limits;
  return {
    memoryBytes: sizeBytes(l.memory),
    cpu: l.cpu,
    pids: l.pids,
    timeoutMs: sandboxDurationMs(l.timeout),
    outputBytes: sizeBytes(l.output),
    fileSizeBytes: sizeBytes(l.fileSize),
    tmpBytes: sizeBytes(l.tmpSize),
  };
}

function sandboxDurationMs(value: string | number): number {
  if (typeof value === 'number') return value * 1000;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)$/.exec(value);
  if (!m) throw new Error(`invalid duration \`${value}\``);
  return Number(m[1]) * { ms: 1, s: 1000, m: 60_000 }[m[2] as 'ms' | 's' | 'm'];
}

/** Every limit a sandbox must enforce, in the order results list them. */
export const LIMIT_NAMES: readonly LimitName[] = [
  'memory',
  'cpu',
  'pids',
  'timeout',
  'output',
  'fileSize',
  'tmpSize',
  'network',
];

const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(constants.signals).map(([name, n]) => [n as number, name]),
);

/** `SIGKILL` for 9: the name of a signal number, or null. */
export function signalName(n: number): string | null {
  return SIGNAL_NAMES.get(n) ?? null;
}

/** A line for the agent: what was hit, so that it can change course (appended to stderr). */
export function violationNotice(result: Pick<SandboxResult, 'violations'>, limits: SandboxLimits): string {
  const words: Record<Violation, string> = {
    memory: `memory limit of ${mib(limits.memoryBytes)} reached; the process was killed`,
    timeout: `time limit of ${limits.timeoutMs} ms reached; every process was killed`,
    'output-cap': `output passed ${mib(limits.outputBytes)} on one stream; the run was stopped`,
    pids: `process limit of ${limits.pids} reached; forks were refused`,
    'file-size': `file size limit of ${mib(limits.fileSizeBytes)} (or the scratch space of ${mib(limits.tmpBytes)}) reached`,
  };
  return result.violations.map((v) => `[warden sandbox] ${words[v]}`).join('\n');
}

function mib(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${+(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes} bytes`;
}

/**
 * The run's timer: the sandbox timeout, or just after the caller's deadline when that comes
 * first. The caller's own abort (the pipeline's `execute.timeout`) then ends the run and names
 * the reason; this timer is the backstop should the abort not arrive.
 */
export function runTimeout(timeoutMs: number, deadline: number | undefined): number {
  if (deadline === undefined) return timeoutMs;
  const left = deadline - Date.now();
  return left < timeoutMs ? Math.max(1, left + 250) : timeoutMs;
}
