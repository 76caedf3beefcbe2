import { readFileSync } from 'node:fs';
import type { SandboxPolicy } from '../policy/sections/sandbox.js';
import { type BwrapHost, findOnPath, probeBwrapHost } from './bwrap-host.js';
import { describeBwrap } from './bwrap-info.js';
import { createBwrapSandbox } from './bwrap-sandbox.js';
import type { Sandbox } from './sandbox.js';

/**
 * `warden sandbox doctor`: tries each backend on this host, step by step, and says for each step
 * what works, what is missing and how to get it on the common systems. It reuses the probes the
 * backends themselves run (`probeBwrapHost`, `describeBwrap`, the Docker engine's version and
 * image), then one trial command under the policy's limits, so "ok" means a command really ran.
 */

/** `ok`: works; `warn`: works, weaker or without a feature; `fail`: this backend cannot run; `skip`: not tried. */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'skip';

export interface DoctorCheck {
  /** The step: `binary`, `user namespaces`, `cgroups`, `seccomp`, `python3`, `trial run`, `engine`, `image`. */
  name: string;
  status: CheckStatus;
  /** What was found. */
  detail: string;
  /** How to get what is missing, one line per system or way; empty when nothing is missing. */
  fix: string[];
}

export interface BackendDiagnosis {
  backend: 'bwrap' | 'docker';
  /** A command ran under the policy's limits. */
  ok: boolean;
  /** What the backend enforces here (the line `warden serve` prints), when it works. */
  summary?: string;
  checks: DoctorCheck[];
}

export interface SandboxDiagnosis {
  /** The policy's `sandbox.backend`. */
  policyBackend: SandboxPolicy['backend'];
  /** The backend `warden serve` would use for this policy, or `none`. */
  chosen: 'bwrap' | 'docker' | 'none';
  /** `chosen` is not `none`: `shell.exec` and `code.exec` can run. */
  ok: boolean;
  backends: BackendDiagnosis[];
  /** One sentence: what happens to `shell.exec` and `code.exec` with this policy on this host. */
  verdict: string;
}

const TRIAL = ['/bin/sh', '-c', 'echo warden-sandbox-ok'];

const INSTALL_BWRAP = [
  'Debian/Ubuntu: sudo apt-get install bubblewrap',
  'Fedora/RHEL: sudo dnf install bubblewrap',
  'macOS (no bubblewrap): install Docker Desktop and set `sandbox.backend: docker` in the policy',
];

/** Tries every backend and picks the one `chooseSandbox` would pick for `policy`. */
export async function diagnoseSandbox(policy: SandboxPolicy): Promise<SandboxDiagnosis> {
  // The trial needs no pre-started sandboxes and no proxy (the allowlist proxy is local: it cannot
  // be what is missing).
  const trialPolicy: SandboxPolicy = { ...policy, warm: 0, network: { ...policy.network, allow: [] } };
  const backends = [await diagnoseBwrap(trialPolicy), await diagnoseDocker(trialPolicy)];
  const usable = (name: 'bwrap' | 'docker') => backends.find((b) => b.backend === name)?.ok === true;
  let chosen: SandboxDiagnosis['chosen'] = 'none';
  if (policy.backend === 'auto') chosen = usable('bwrap') ? 'bwrap' : usable('docker') ? 'docker' : 'none';
  else if (policy.backend !== 'none' && usable(policy.backend)) chosen = policy.backend;
  let verdict: string;
  if (chosen !== 'none') verdict = `shell.exec and code.exec run in ${chosen}`;
  else if (policy.backend === 'none')
    verdict =
      'the policy sets `sandbox.backend: none`: shell.exec and code.exec are denied (set it to `auto` to use a backend that works)';
  else {
    const which =
      policy.backend === 'auto'
        ? 'no backend works'
        : `the \`${policy.backend}\` backend the policy names does not work`;
    const other = backends.find((b) => b.ok && b.backend !== policy.backend);
    verdict = `${which}: shell.exec and code.exec are denied (sandbox.unavailable); fix what is marked \`FAIL\` above${other ? `, or set \`sandbox.backend: ${other.backend}\` (it works here)` : ''}`;
  }
  return { policyBackend: policy.backend, chosen, ok: chosen !== 'none', backends, verdict };
}

async function diagnoseBwrap(policy: SandboxPolicy): Promise<BackendDiagnosis> {
  const checks: DoctorCheck[] = [];
  const done = (ok: boolean, summary?: string): BackendDiagnosis => ({
    backend: 'bwrap',
    ok,
    ...(summary ? { summary } : {}),
    checks,
  });
  const binary = findOnPath('bwrap');
  if (!binary) {
    checks.push({
      name: 'binary',
      status: 'fail',
      detail: 'bubblewrap (`bwrap`) is not installed (not on PATH, nor in /usr/bin or /bin)',
      fix: INSTALL_BWRAP,
    });
    return done(false);
  }
  const { host, problem } = probeBwrapHost();
  if (!host) {
    checks.push({ name: 'binary', status: 'ok', detail: binary, fix: [] });
    checks.push({
      name: 'user namespaces',
      status: 'fail',
      detail: problem ?? 'bubblewrap could not start a sandbox',
      fix: userNamespaceFixes(),
    });
    return done(false);
  }
  checks.push({ name: 'binary', status: 'ok', detail: `${host.bwrap} (${host.version})`, fix: [] });
  checks.push({
    name: 'user namespaces',
    status: 'ok',
    detail: 'bubblewrap started a trial sandbox',
    fix: [],
  });
  const info = describeBwrap(host, policy, !!(host.seccomp && policy.seccomp), undefined);
  checks.push(cgroupCheck(host, info.unenforceable, policy));
  checks.push(seccompCheck(host, policy));
  checks.push(
    host.python
      ? { name: 'python3', status: 'ok', detail: `${host.python} (code.exec python)`, fix: [] }
      : {
          name: 'python3',
          status: 'warn',
          detail: 'not installed: code.exec with python is refused (shell.exec and javascript run)',
          fix: ['Debian/Ubuntu: sudo apt-get install python3', 'Fedora/RHEL: sudo dnf install python3'],
        },
  );
  let sandbox: Sandbox | undefined;
  try {
    sandbox = createBwrapSandbox(policy);
    checks.push(await trialRun(sandbox));
  } catch (error) {
    checks.push(trialFailure(error));
  } finally {
    await sandbox?.close();
  }
  const ok = checks.every((c) => c.status !== 'fail');
  return done(ok, ok ? info.summary : undefined);
}

function cgroupCheck(host: BwrapHost, unenforceable: readonly string[], policy: SandboxPolicy): DoctorCheck {
  const cg = host.cgroups;
  const missing = (['memory', 'cpu', 'pids'] as const).filter((c) => !cg?.controllers.has(c));
  const found = cg ? `${cg.version}: ${[...cg.controllers].join(', ') || 'no controllers'}` : 'none writable';
  const limitsLost = unenforceable.filter((l) => ['memory', 'cpu', 'pids'].includes(l));
  if (missing.length === 0 && limitsLost.length === 0)
    return {
      name: 'cgroups',
      status: 'ok',
      detail: `${found}${cg?.swapLimit ? ' (swap limited)' : ' (host has no swap)'}`,
      fix: [],
    };
  const lost = limitsLost.length > 0 ? limitsLost : missing;
  return {
    name: 'cgroups',
    // With `unenforceable: refuse` (the default) every run is refused; the trial run says so.
    status: policy.unenforceable === 'refuse' ? 'fail' : 'warn',
    detail: `${found}: the ${lost.join(', ')} limit${lost.length > 1 ? 's' : ''} cannot be enforced${policy.unenforceable === 'refuse' ? ', so every run is refused (sandbox.unenforceable: refuse)' : ' (runs report them as unenforced)'}`,
    fix: [
      'run Warden as root (cgroup v1: its groups are writable; cgroup v2: in a cgroup of its own)',
      'systemd: run it as a service with `Delegate=yes`, or `systemd-run --user --scope -p Delegate=yes warden serve …`',
      'in a container: give it a writable cgroup (`docker run --cgroupns=private`, cgroup v2 with the controllers delegated)',
      'or accept it: `sandbox.unenforceable: report` runs anyway and lists the limits as unenforced in each result',
    ],
  };
}

function seccompCheck(host: BwrapHost, policy: SandboxPolicy): DoctorCheck {
  if (!policy.seccomp)
    return {
      name: 'seccomp',
      status: 'warn',
      detail: 'off in the policy (sandbox.seccomp: false)',
      fix: ['set `sandbox.seccomp: true` (the default)'],
    };
  if (host.seccomp) return { name: 'seccomp', status: 'ok', detail: 'filter built (x86-64)', fix: [] };
  return {
    name: 'seccomp',
    status: 'warn',
    detail: `no filter for ${process.arch}: the namespaces, uid 65534 and dropped capabilities still hold`,
    fix: ['only x86-64 has a filter (see docs/sandbox.md, Host requirements)'],
  };
}

/**
 * The sysctls that decide whether unprivileged user namespaces are allowed, with the fix for each
 * one that forbids them; the generic advice when none of them does (a container's profile).
 */
function userNamespaceFixes(): string[] {
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      return undefined;
    }
  };
  const fixes: string[] = [];
  if (read('/proc/sys/kernel/apparmor_restrict_unprivileged_userns') === '1')
    fixes.push(
      'Ubuntu 23.10+/24.04 (AppArmor restricts them): sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (persist it in /etc/sysctl.d/), or give bwrap an AppArmor profile with `userns`',
    );
  if (read('/proc/sys/kernel/unprivileged_userns_clone') === '0')
    fixes.push(
      'Debian/Ubuntu (older kernels): sudo sysctl -w kernel.unprivileged_userns_clone=1 (persist it in /etc/sysctl.d/)',
    );
  if (read('/proc/sys/user/max_user_namespaces') === '0')
    fixes.push('sudo sysctl -w user.max_user_namespaces=15000 (persist it in /etc/sysctl.d/)');
  if (fixes.length === 0)
    fixes.push(
      'Ubuntu 24.04: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0',
      'older Debian/Ubuntu kernels: sudo sysctl -w kernel.unprivileged_userns_clone=1',
    );
  fixes.push(
    'in a container: run it with a seccomp/AppArmor profile that allows user namespaces (e.g. `--security-opt seccomp=unconfined --security-opt apparmor=unconfined`), or use the docker backend on the host',
  );
  return fixes;
}

async function trialRun(sandbox: Sandbox): Promise<DoctorCheck> {
  const started = performance.now();
  const r = await sandbox.run({ argv: TRIAL, deadline: Date.now() + 30_000 });
  const ms = Math.round(performance.now() - started);
  if (r.exitCode === 0 && r.stdout.text.trim() === 'warden-sandbox-ok')
    return {
      name: 'trial run',
      status: 'ok',
      detail: `\`sh -c 'echo …'\` ran under the policy's limits in ${ms} ms`,
      fix: [],
    };
  return {
    name: 'trial run',
    status: 'fail',
    detail: `\`sh -c 'echo …'\` ended with exit ${r.exitCode ?? r.signal}${r.violations.length ? ` (${r.violations.join(', ')})` : ''}: ${r.stderr.text.trim().slice(0, 300) || 'no output'}`,
    fix: ['run `warden run -- sh -c "echo hi"` to see the whole output'],
  };
}

function trialFailure(error: unknown): DoctorCheck {
  return { name: 'trial run', status: 'fail', detail: (error as Error).message, fix: [] };
}

async function diagnoseDocker(policy: SandboxPolicy): Promise<BackendDiagnosis> {
  const checks: DoctorCheck[] = [];
  const socket = policy.docker.socket;
  const image = policy.docker.image;
  // Loaded only here, as in chooseSandbox: dockerode takes ~120 ms to load.
  const { default: Docker } = await import('dockerode');
  const { DockerSandbox } = await import('./docker-sandbox.js');
  const docker = new Docker({ socketPath: socket });
  let version: string;
  try {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('no answer within 2 s')), 2000);
    });
    const answer = docker.version() as Promise<{ Version?: string }>;
    version = (await Promise.race([answer, late]).finally(() => clearTimeout(timer))).Version ?? 'unknown';
  } catch (error) {
    checks.push({
      name: 'engine',
      status: 'fail',
      detail: `no Docker engine answers at ${socket} (${(error as Error).message})`,
      fix: [
        'Debian/Ubuntu: sudo apt-get install docker.io && sudo systemctl start docker',
        'Fedora/RHEL: sudo dnf install moby-engine && sudo systemctl start docker (or podman: `podman system service --time=0 unix:///run/podman/podman.sock` and `sandbox.docker.socket: /run/podman/podman.sock`)',
        'macOS: install and start Docker Desktop',
        'an engine elsewhere: point `sandbox.docker.socket` at its socket',
      ],
    });
    checks.push({ name: 'image', status: 'skip', detail: 'not checked (no engine)', fix: [] });
    return { backend: 'docker', ok: false, checks };
  }
  checks.push({ name: 'engine', status: 'ok', detail: `Docker engine ${version} at ${socket}`, fix: [] });
  try {
    await docker.getImage(image).inspect();
    checks.push({ name: 'image', status: 'ok', detail: image, fix: [] });
  } catch {
    checks.push({
      name: 'image',
      status: 'fail',
      detail: `\`${image}\` is not present (Warden never pulls at run time)`,
      fix: [`docker pull ${image}`, 'or name a local image with sh and python3 in `sandbox.docker.image`'],
    });
    return { backend: 'docker', ok: false, checks };
  }
  const sandbox = new DockerSandbox(policy, docker, version);
  try {
    checks.push(await trialRun(sandbox));
  } catch (error) {
    checks.push(trialFailure(error));
  }
  const ok = checks.every((c) => c.status !== 'fail');
  return { backend: 'docker', ok, ...(ok ? { summary: sandbox.info.summary } : {}), checks };
}
