import type { Action } from '../contract/action.js';
import { compileNamePatterns, type NameMatcher } from '../lib/glob.js';
import type { MatchConfig, Scope } from '../policy/sections/limits.js';

/**
 * How limits name what they count. A state key is `kind:rule:scope[:extra]`, where `scope` is
 * `agent=research,user=bob` with each value URI-encoded (so `:` `,` `=` never clash).
 * A `session` scope always includes the agent: one agent cannot use up another's session.
 */

/** The tool an action calls: `params.tool` when it is a string (MCP and tool-call actions), else the type. */
export function toolOf(action: Action): string {
  return typeof action.params.tool === 'string' ? action.params.tool : action.type;
}

export type ActionMatcher = (action: Action) => boolean;

export function compileMatch(match: MatchConfig): ActionMatcher {
  const list = (v: string | string[] | undefined) =>
    v === undefined ? undefined : compileNamePatterns(Array.isArray(v) ? v : [v]);
  const type = list(match.type);
  const agent = list(match.agent);
  const user = list(match.user);
  const tool = list(match.tool);
  if (!type && !agent && !user && !tool) return () => true;
  return (a) =>
    (!type || type(a.type)) &&
    (!agent || agent(a.agent)) &&
    (!user || (a.user !== undefined && (user as NameMatcher)(a.user))) &&
    (!tool || tool(toolOf(a)));
}

export function normaliseScope(scope: Scope | Scope[]): Scope[] {
  const list = Array.isArray(scope) ? [...new Set(scope)] : [scope];
  if (list.includes('session') && !list.includes('agent')) list.unshift('agent');
  const order: Scope[] = ['agent', 'user', 'session', 'type', 'tool'];
  return order.filter((s) => list.includes(s));
}

/** A value a scope takes for an action; `-` for a missing user or session. */
export function scopeValue(scope: Scope, action: Action): string {
  switch (scope) {
    case 'agent':
      return action.agent;
    case 'user':
      return action.user ?? '-';
    case 'session':
      return action.session ?? '-';
    case 'type':
      return action.type;
    case 'tool':
      return toolOf(action);
  }
}

export function scopeKey(scopes: readonly Scope[], action: Action): string {
  // One scope (most rules: per agent) needs no array: this runs for every limited action.
  if (scopes.length === 1) {
    const scope = scopes[0] as Scope;
    return `${scope}=${encodeURIComponent(scopeValue(scope, action))}`;
  }
  return scopes.map((s) => `${s}=${encodeURIComponent(scopeValue(s, action))}`).join(',');
}

/** The parts of a state key, for `warden limits`. */
export function parseKey(key: string): {
  kind: string;
  rule: string;
  scope: Map<string, string>;
  extra?: string;
} {
  const [kind = '', rule = '', scopePart = '', extra] = key.split(':');
  const scope = new Map<string, string>();
  for (const pair of scopePart.split(',')) {
    const eq = pair.indexOf('=');
    if (eq > 0) scope.set(pair.slice(0, eq), decodeURIComponent(pair.slice(eq + 1)));
  }
  return { kind, rule, scope, ...(extra === undefined ? {} : { extra }) };
}

/** `agent=research,user=bob` → `research/bob`, for display. */
export function displayKey(scope: Map<string, string>): string {
  return [...scope.values()].join('/');
}
