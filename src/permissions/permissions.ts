import type { Reason } from '../contract/decision.js';
import { type ResourceKind, resourcesOf } from '../lib/resources.js';
import type { CompiledAgent, ResourceMatcher } from '../policy/compile.js';
import type { Stage } from '../policy/context.js';
import type { Overrides } from '../store/overrides.js';

const deny = (code: string, message: string): Reason => ({
  code: `permissions.${code}`,
  stage: 'permissions',
  message,
});

const RESOURCE_WORD: Record<ResourceKind, string> = { paths: 'path', hosts: 'host', tables: 'table' };

/**
 * Stage 3, least privilege: the agent must be named in the policy, the type must be in its
 * `allow` list and not in its `deny` list, and every resource the action touches (paths, hosts,
 * tables) must be granted. Default deny: anything not granted is refused, saying which grant is missing.
 * An agent whose grants were revoked (`warden incident revoke`) is refused everything.
 */
export function permissionsStage(overrides?: Pick<Overrides, 'revoked'>): Stage {
  return {
    name: 'permissions',
    run: function permissions(ctx) {
      const { action, policy } = ctx;
      const revoked = overrides?.revoked(action.agent);
      if (revoked) {
        return deny(
          'revoked',
          `the grants of agent \`${action.agent}\` were revoked by ${revoked.by} at ${revoked.at}: ${revoked.reason || 'no reason given'}; an operator must restore them (\`warden incident restore --agent ${action.agent}\`)`,
        );
      }
      const agent = policy.agents.get(action.agent);
      if (!agent) {
        return deny(
          'unknown-agent',
          `agent \`${action.agent}\` is not in the policy; add it under \`agents\` with the grants it needs`,
        );
      }
      ctx.agent = agent;
      if (agent.denies(action.type)) {
        return deny(
          'denied',
          `agent \`${agent.name}\` is denied \`${action.type}\` by \`agents.${agent.name}.deny\``,
        );
      }
      if (!agent.allows(action.type)) {
        const grants = agent.config.allow.length > 0 ? agent.config.allow.join(', ') : 'none';
        return deny(
          'not-granted',
          `agent \`${agent.name}\` has no grant for \`${action.type}\` (its grants: ${grants}); add \`${action.type}\` to \`agents.${agent.name}.allow\` to permit it`,
        );
      }
      return checkResources(ctx.action, agent, ctx.facts);
    },
  };
}

function checkResources(
  action: Parameters<typeof resourcesOf>[0],
  agent: CompiledAgent,
  facts: Map<string, unknown>,
): Reason | undefined {
  const resources = resourcesOf(action, facts);
  if (!resources) return undefined;
  const word = RESOURCE_WORD[resources.kind];
  if ('error' in resources) return deny('resource-invalid', resources.error);
  const grant: ResourceMatcher | undefined = agent[resources.kind];
  if (!grant) {
    return deny(
      'resource-not-granted',
      `agent \`${agent.name}\` has no ${word} grants for \`${action.type}\`; list the ${resources.kind} it may use in \`agents.${agent.name}.resources.${resources.kind}\``,
    );
  }
  for (const value of resources.values) {
    if (grant.denies(value)) {
      return deny('resource-denied', `${word} \`${value}\` is denied to agent \`${agent.name}\``);
    }
    if (!grant.allows(value)) {
      return deny(
        'resource-not-granted',
        `${word} \`${value}\` is outside the grants of agent \`${agent.name}\` (${grant.allow.join(', ') || 'none'})`,
      );
    }
  }
  return undefined;
}
