import type { SandboxPolicy } from '../policy/sections/sandbox.js';
import { createBwrapSandbox, type NetworkBridge } from './bwrap-sandbox.js';
import { type Sandbox, SandboxError } from './sandbox.js';

/** The backend the policy's `sandbox.backend` led to, or why there is none. */
export interface SandboxChoice {
  sandbox?: Sandbox;
  /** `bwrap`, `docker`, `none`, or `unused` (not probed: no agent may run commands). */
  backend: string;
  /** One line for startup output and `warden run --json`: what was chosen, or why nothing was. */
  summary: string;
  /** Why no backend could be used (undefined when one was, or when the policy said `none`). */
  problem?: string;
}

/**
 * Picks the backend: `auto` takes the strongest available — bubblewrap (namespaces, cgroups,
 * seccomp, milliseconds per run), then a Docker engine — and reports what it chose; `bwrap` or
 * `docker` takes only that one; `none` disables sandboxed execution.
 */
export async function chooseSandbox(policy: SandboxPolicy): Promise<SandboxChoice> {
  if (policy.backend === 'none') return { backend: 'none', summary: 'none (sandbox.backend: none)' };
  const problems: string[] = [];
  if (policy.backend === 'auto' || policy.backend === 'bwrap') {
    let network: NetworkBridge | undefined;
    try {
      // The proxy (and node:http) loads only for a policy that lets sandboxed code out.
      if (policy.network.allow.length > 0) {
        const { startNetworkProxy } = await import('./network-proxy.js');
        network = await startNetworkProxy(policy.network.allow, { ports: policy.network.ports });
      }
      const sandbox = createBwrapSandbox(policy, network);
      return { sandbox, backend: 'bwrap', summary: sandbox.info.summary };
    } catch (error) {
      await network?.close();
      if (!(error instanceof SandboxError)) throw error;
      problems.push(`bwrap: ${error.message}`);
    }
  }
  if (policy.backend === 'auto' || policy.backend === 'docker') {
    // Loaded only here: dockerode and its dependencies take ~120 ms to load, on every start of
    // every command, for a backend most hosts never use.
    const { createDockerSandbox } = await import('./docker-sandbox.js');
    const { sandbox, problem } = await createDockerSandbox(policy);
    if (sandbox) return { sandbox, backend: 'docker', summary: sandbox.info.summary };
    problems.push(`docker: ${problem}`);
  }
  const problem = problems.join('; ');
  return { backend: 'none', summary: `none available (${problem})`, problem };
}
