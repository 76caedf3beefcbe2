import { resolve } from 'node:path';
import { compileNamePatterns } from '../lib/glob.js';
import type { CompiledAgent } from '../policy/compile.js';
import { placeholdersFor } from '../redteam/corpus.js';
import { type CheckContext, type CheckResult, fail, pass, warn } from './check-types.js';

/** A representative action per type, for probing what a policy decides. */
const PROBES: Record<string, (root: string, cwd: string) => Array<Record<string, unknown>>> = {
  'fs.delete': (root) => [{ path: `${root}/src/index.ts` }],
  'fs.write': (root) => [{ path: `${root}/notes.md`, content: 'x' }],
  'sql.query': () => [
    { sql: 'DROP TABLE orders' },
    { sql: 'DELETE FROM orders' },
    { sql: 'UPDATE accounts SET balance = 0' },
  ],
  'shell.exec': (_root, cwd) => [{ command: `rm -rf ${cwd}/src` }, { command: 'git status' }],
  'code.exec': () => [{ language: 'python', code: 'print(1)' }],
  'http.request': () => [{ method: 'DELETE', url: 'https://api.example.com/v1/items/1' }],
  'payment.transfer': () => [{ amount: 1000, currency: 'USD', to: 'acct-1' }],
  'llm.generate': () => [{ model: 'gpt-4o', prompt: 'hello', maxOutputTokens: 100 }],
};
const DESTRUCTIVE = new Set(['fs.delete', 'sql.query', 'shell.exec', 'payment.transfer']);

/** The action types an agent may send: its explicit `allow` entries, and the probed types its patterns admit. */
function typesOf(agent: CompiledAgent): string[] {
  const explicit = agent.config.allow.filter((t) => !/[*?[{]/.test(t));
  const probed = Object.keys(PROBES).filter((t) => agent.allows(t));
  return [...new Set([...explicit, ...probed])].filter((t) => !agent.denies(t));
}

interface Probe {
  agent: string;
  type: string;
  params: Record<string, unknown>;
  effect: string;
  risk: string;
  rule?: string;
}

async function probe(ctx: CheckContext): Promise<Probe[]> {
  const warden = await ctx.scratch();
  const out: Probe[] = [];
  for (const [name, agent] of ctx.policy.agents) {
    const { root, cwd } = placeholdersFor(ctx.policy, agent);
    for (const type of typesOf(agent)) {
      for (const params of PROBES[type]?.(root, cwd) ?? [{}]) {
        const d = await warden.check({ agent: name, type, params });
        out.push({
          agent: name,
          type,
          params,
          effect: d.effect,
          risk: d.risk,
          ...(d.rule ? { rule: d.rule } : {}),
        });
      }
    }
  }
  return out;
}

const show = (p: Probe) => `\`${p.type} ${JSON.stringify(p.params)}\``;

export async function leastPrivilege(ctx: CheckContext): Promise<CheckResult> {
  const id = 'least-privilege';
  const title = 'Least privilege';
  const wide: string[] = [];
  const broad: string[] = [];
  for (const [name, agent] of ctx.policy.agents) {
    if (agent.config.allow.some((t) => t === '*' || t === '**'))
      wide.push(`\`${name}\` may send every action type (\`allow: ["*"]\`)`);
    const r = agent.config.resources ?? {};
    for (const [kind, all] of [
      ['paths', ['/**', '**', '/*']],
      ['hosts', ['*', '**']],
      ['tables', ['*', '*.*']],
    ] as const) {
      const grant = (r as Record<string, unknown>)[kind];
      const allow = Array.isArray(grant) ? grant : ((grant as { allow?: string[] } | undefined)?.allow ?? []);
      if (allow.some((g: string) => (all as readonly string[]).includes(g)))
        broad.push(`\`${name}\` has \`${kind}: ${allow.join(', ')}\``);
    }
  }
  const destructive = (await probe(ctx)).filter(
    (p) => DESTRUCTIVE.has(p.type) && p.effect === 'allow' && (p.risk === 'high' || p.risk === 'critical'),
  );
  if (wide.length > 0 || destructive.length > 0) {
    const what = [
      ...wide,
      ...destructive.map(
        (p) => `\`${p.agent}\` may run ${show(p)} without approval${p.rule ? ` (rule \`${p.rule}\`)` : ''}`,
      ),
    ];
    return fail(
      id,
      title,
      what.join('; '),
      'list the action types each agent needs (`allow: [fs.read, fs.write]`), and make destructive ones ask:\n  rules:\n    - { id: destructive-needs-approval, effect: ask, match: { type: [fs.delete, sql.query, shell.exec], risk: [high, critical] } }',
    );
  }
  if (broad.length > 0)
    return warn(
      id,
      title,
      `${broad.join('; ')}: a grant as wide as the namespace`,
      'narrow the grant to what the agent works on, e.g. `resources: { paths: ["/workspace/**"], tables: [orders, customers] }`',
    );
  return pass(
    id,
    title,
    `${ctx.policy.agents.size} agent(s): no wildcard type grants, destructive actions are not allowed outright`,
  );
}

export async function approvalGates(ctx: CheckContext): Promise<CheckResult> {
  const id = 'approval-gates';
  const title = 'Approval gates on high and critical risk';
  const open = (await probe(ctx)).filter(
    (p) => (p.risk === 'high' || p.risk === 'critical') && p.effect === 'allow',
  );
  if (open.length > 0)
    return fail(
      id,
      title,
      open
        .map(
          (p) =>
            `${p.risk} risk ${show(p)} of \`${p.agent}\` is allowed${p.rule ? ` by rule \`${p.rule}\`` : ''}`,
        )
        .join('; '),
      'remove the allow rule, or make it ask:\n  rules:\n    - { id: <the rule>, effect: ask, … }   # high and critical risk ask by default when no rule allows them',
    );
  return pass(id, title, 'every high- and critical-risk probe asks for approval or is denied');
}

export async function limitsSet(ctx: CheckContext): Promise<CheckResult> {
  const id = 'limits';
  const title = 'Rate limits and budgets for every agent';
  const limits = ctx.policy.config.limits;
  const applies = (match: { agent?: string | string[] | undefined } | undefined, agent: string) =>
    !match?.agent || compileNamePatterns(Array.isArray(match.agent) ? match.agent : [match.agent])(agent);
  const noRate: string[] = [];
  const noBudget: string[] = [];
  const noLoop: string[] = [];
  for (const [name, agent] of ctx.policy.agents) {
    if (!limits.rate.some((r) => applies(r.match, name))) noRate.push(name);
    const pays = agent.allows('llm.generate') || agent.allows('payment.transfer');
    if (pays && !limits.budgets.some((b) => applies(b.match, name))) noBudget.push(name);
    if (
      !(limits.loop && applies(limits.loop.match, name)) &&
      !(limits.steps && applies(limits.steps.match, name))
    )
      noLoop.push(name);
  }
  const snippet =
    'limits:\n    rate: [{ windows: { 1m: 60 } }]\n    budgets: [{ usd: 10, period: day, match: { type: llm.generate } }]\n    loop: { max: 5, window: 10m }';
  if (noRate.length > 0 || noBudget.length > 0)
    return fail(
      id,
      title,
      [
        noRate.length ? `no rate limit applies to ${list(noRate)}` : '',
        noBudget.length ? `no budget applies to ${list(noBudget)}, which may spend money` : '',
      ]
        .filter(Boolean)
        .join('; '),
      snippet,
    );
  if (noLoop.length > 0)
    return warn(
      id,
      title,
      `no loop or step limit applies to ${list(noLoop)}`,
      'limits:\n    loop: { max: 5, window: 10m }\n    steps: { max: 200 }',
    );
  return pass(
    id,
    title,
    'every agent has a rate limit, a budget where it can spend, and a loop or step limit',
  );
}

export async function monitoringOn(ctx: CheckContext): Promise<CheckResult> {
  const id = 'monitoring';
  const title = 'Structured logging and monitoring';
  const m = ctx.policy.config.monitoring;
  const fix = 'monitoring:\n    enabled: true\n    logs: { destination: /var/log/warden/decisions.log }';
  if (m.enabled === false)
    return fail(
      id,
      title,
      'the policy turns monitoring off (`monitoring.enabled: false`): no decision log, metrics, anomalies or alerts',
      fix,
    );
  if (m.enabled === undefined && ctx.embedded)
    return fail(
      id,
      title,
      'an embedded Warden (`createWarden`) runs with monitoring off unless the policy turns it on: no cost alerts, anomaly detection or alert sinks',
      fix,
    );
  if (!m.logs.enabled)
    return fail(
      id,
      title,
      'structured decision logs are off (`monitoring.logs.enabled: false`)',
      'monitoring:\n    logs: { enabled: true }',
    );
  if (m.enabled === undefined)
    return warn(
      id,
      title,
      'monitoring is on under `warden serve` (the default) but off if this policy is used embedded',
      'monitoring:\n    enabled: true   # say it, so an embedded Warden monitors too',
    );
  return pass(
    id,
    title,
    `on: decision logs to ${m.logs.destination}${m.metrics.enabled ? ', metrics' : ''}${m.anomalies.enabled ? ', anomaly detection' : ''}`,
  );
}

export async function costAlerts(ctx: CheckContext): Promise<CheckResult> {
  const id = 'cost-alerts';
  const title = 'Cost alerts';
  const a = ctx.policy.config.monitoring.anomalies;
  const t = a.costThreshold;
  const set = [
    t.perActionUsd && `$${t.perActionUsd} per action`,
    t.perSessionUsd && `$${t.perSessionUsd} per session`,
    t.perHourUsd && `$${t.perHourUsd} per hour`,
  ].filter(Boolean);
  if (!a.enabled || (!a.costSpike.enabled && set.length === 0))
    return fail(
      id,
      title,
      'no cost alert can fire: anomaly detection or both the cost spike and absolute thresholds are off',
      'monitoring:\n    anomalies:\n      costThreshold: { perActionUsd: 5, perSessionUsd: 20, perHourUsd: 50 }',
    );
  if (set.length === 0 || !t.enabled)
    return warn(
      id,
      title,
      'only relative cost spikes are watched; no absolute threshold (`cost > $5`) is set',
      'monitoring:\n    anomalies:\n      costThreshold: { perActionUsd: 5, perSessionUsd: 20, perHourUsd: 50 }',
    );
  return pass(
    id,
    title,
    `absolute thresholds ${set.join(', ')}${a.costSpike.enabled ? ', and cost spikes' : ''}`,
  );
}

export async function policyProtected(ctx: CheckContext): Promise<CheckResult> {
  const id = 'policy-protected';
  const title = "The policy's own files are protected";
  const warden = await ctx.scratch();
  const files = [
    resolve(ctx.policyFile),
    resolve(ctx.dbPath ?? process.env.WARDEN_DB ?? '.warden/warden.db'),
  ];
  const open: string[] = [];
  for (const [name, agent] of ctx.policy.agents) {
    for (const file of files) {
      const attempts: Array<[string, Record<string, unknown>]> = [
        ['fs.write', { path: file, content: 'agents: {}' }],
        ['fs.delete', { path: file }],
        ['shell.exec', { command: `echo > ${file}` }],
      ];
      for (const [type, params] of attempts) {
        if (!agent.allows(type)) continue;
        const d = await warden.check({ agent: name, type, params });
        if (d.effect === 'allow') open.push(`\`${name}\` may \`${type}\` \`${file}\``);
      }
    }
  }
  if (open.length > 0)
    return fail(
      id,
      title,
      open.join('; '),
      `fs:\n    protectedExtra: [${files.map((f) => `"${f.split('/').pop()}"`).join(', ')}]\nor keep the policy and store outside every agent's \`resources.paths\``,
    );
  return pass(id, title, `no agent may write or delete ${files.map((f) => `\`${f}\``).join(' or ')}`);
}

function list(names: string[]): string {
  return names.map((n) => `\`${n}\``).join(', ');
}
