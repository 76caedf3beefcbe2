import type { Assembly } from '../pipeline/assemble.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { Store } from '../store/store.js';
import { Upstream } from './upstream.js';

const assembled = new WeakMap<CompiledPolicy, Upstream[]>();

/**
 * The policy's `mcp.servers` with a `command` or `url` become upstream connections for the
 * gateway of `warden serve` (`/mcp`). Nothing is started here: each server is spawned or
 * connected on the gateway's first request, and closed with the Warden.
 */
export function assembleMcp(parts: Assembly, policy: CompiledPolicy, _store: Store): void {
  const servers = Object.entries(policy.config.mcp.servers).filter(([, s]) => s.command || s.url);
  if (servers.length === 0) return;
  const upstreams = servers.map(([name, server]) => new Upstream({ name, ...server }));
  assembled.set(policy, upstreams);
  parts.closers.push(async () => {
    await Promise.allSettled(upstreams.map((u) => u.close()));
  });
}

/** The upstreams `assembleMcp` built for this policy (none when it names no servers). */
export function assembledUpstreams(policy: CompiledPolicy): Upstream[] {
  return assembled.get(policy) ?? [];
}
