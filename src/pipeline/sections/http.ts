import { createHttpExecutor } from '../../execute/http-executor.js';
import { createHttpGuard } from '../../guards/http/http-guard.js';
import { compileHttp } from '../../guards/http/url-checks.js';
import type { CompiledPolicy } from '../../policy/compile.js';
import { durationMs } from '../../policy/schema.js';
import type { Assembly } from '../assembly.js';

/** The `http` section: the HTTP guard, and the SSRF-safe executor for `http.request`. */
export function assembleHttp(parts: Assembly, policy: CompiledPolicy): void {
  const section = policy.config.http;
  const http = compileHttp(section, durationMs(section.timeout));
  parts.guards.push(createHttpGuard(http));
  parts.executors['http.request'] = createHttpExecutor({
    http,
    hostGranted: (agent, host) => {
      const grant = policy.agents.get(agent)?.hosts;
      return grant !== undefined && !grant.denies(host) && grant.allows(host);
    },
  }) as Assembly['executors'][string];
}
