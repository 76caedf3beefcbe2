import type { SandboxPolicy } from '../policy/sections/sandbox.js';
import type { NetworkBridge } from './bwrap-args.js';
import { type BwrapHost, SANDBOX_UID } from './bwrap-host.js';
import { LIMIT_NAMES } from './limits.js';
import type { LimitName, SandboxInfo } from './sandbox.js';

/** What this host enforces for the bubblewrap backend, and by what (`SandboxInfo`). */
export function describeBwrap(
  host: BwrapHost,
  policy: SandboxPolicy,
  seccomp: boolean,
  network: NetworkBridge | undefined,
): SandboxInfo {
  const cg = host.cgroups;
  const by = cg ? `cgroup-${cg.version}` : undefined;
  const enforced: Partial<Record<LimitName, string>> = {};
  if (by && cg?.controllers.has('memory') && (cg.swapLimit || !host.hostHasSwap))
    enforced.memory = cg.swapLimit ? `${by} (memory+swap)` : `${by} (host has no swap)`;
  if (by && cg?.controllers.has('cpu')) enforced.cpu = `${by} cfs quota`;
  if (by && cg?.controllers.has('pids')) enforced.pids = `${by} pids`;
  enforced.timeout = 'supervisor: SIGKILL to the pid namespace, then the cgroup';
  enforced.output = 'supervisor: capture cap, then SIGKILL';
  if (host.prlimit) enforced.fileSize = 'rlimit RLIMIT_FSIZE (prlimit)';
  if (host.tmpfsSize) enforced.tmpSize = 'tmpfs size';
  enforced.network = network ? `netns + ${network.description}` : 'netns (no interfaces but loopback)';
  const unenforceable = LIMIT_NAMES.filter((name) => !enforced[name]);
  const parts = [
    `bwrap ${host.version}`,
    cg ? `cgroup ${cg.version} (${[...cg.controllers].join(', ')})` : 'no cgroups',
    seccomp ? 'seccomp' : 'no seccomp',
    `uid ${host.runAs ? SANDBOX_UID : 'unprivileged caller'}`,
    network ? network.description : 'no network',
  ];
  const summary =
    unenforceable.length === 0
      ? parts.join(', ')
      : `${parts.join(', ')}; cannot enforce ${unenforceable.join(', ')}${policy.unenforceable === 'refuse' ? ' (runs refused)' : ' (reported per run)'}`;
  return { backend: 'bwrap', summary, enforced, unenforceable };
}

export function unenforceableMessage(info: SandboxInfo): string {
  return `this host cannot enforce the sandbox limits ${info.unenforceable.map((l) => `\`${l}\``).join(', ')} that the policy requires; the run is refused (set sandbox.unenforceable: report to run with them listed in each result, or give Warden delegated cgroups: see docs/sandbox.md)`;
}
