import type { ActionInput } from '../src/contract/action.js';
import type { PolicyInput } from '../src/policy/schema.js';

/**
 * A realistic 100-rule policy over ten agents, and a workload of distinct actions against it, for
 * the `check()` benchmark (SPEC §8). Deterministic: the same seed gives the same workload.
 */

type Rule = NonNullable<PolicyInput['rules']>[number];
type Agents = NonNullable<PolicyInput['agents']>;

export const RULE_COUNT = 100;

const AGENTS: Agents = {
  research: {
    description: 'reads papers and the shared data set',
    allow: ['fs.read', 'fs.list', 'http.request', 'llm.generate'],
    resources: {
      paths: ['/data/research/**', '/data/shared/**'],
      hosts: ['*.wikipedia.org', 'arxiv.org', 'api.semanticscholar.org'],
    },
  },
  support: {
    allow: ['crm.*', 'ticket.*', 'email.send', 'llm.generate', 'fs.read'],
    deny: ['crm.delete', 'crm.export'],
    resources: { paths: ['/data/support/**', '/data/shared/**'] },
  },
  billing: {
    allow: ['payment.*', 'crm.read', 'crm.update', 'email.send', 'fs.read'],
    resources: { paths: ['/data/billing/**'] },
  },
  ops: {
    allow: ['fs.*', 'http.request', 'deploy.*', 'llm.generate'],
    deny: ['fs.delete'],
    resources: {
      paths: { allow: ['/srv/**', '/var/log/**'], deny: ['/srv/keys/**'] },
      hosts: ['*.internal.example.com', 'status.example.com'],
    },
  },
  sales: {
    allow: ['crm.*', 'email.send', 'llm.generate', 'http.request'],
    deny: ['crm.delete'],
    resources: { hosts: ['api.hubspot.com', '*.salesforce.com'] },
  },
  analyst: {
    allow: ['fs.read', 'fs.list', 'fs.write', 'llm.generate', 'report.*', 'crm.export'],
    resources: { paths: ['/data/warehouse/**', '/data/reports/**'] },
  },
  writer: {
    allow: ['fs.read', 'fs.write', 'llm.generate', 'http.request'],
    resources: { paths: ['/data/docs/**'], hosts: ['api.openai.com', 'api.anthropic.com'] },
  },
  'finance-bot': {
    allow: ['payment.send', 'payment.refund', 'crm.read', 'report.*'],
  },
  hr: {
    allow: ['fs.read', 'fs.write', 'email.send', 'hris.*'],
    resources: { paths: { allow: ['/data/hr/**'], deny: ['/data/hr/payroll/**'] } },
  },
  intern: {
    allow: ['fs.read', 'llm.generate', 'crm.read', 'ticket.*'],
    resources: { paths: ['/data/shared/**'] },
  },
};

const RISK: NonNullable<PolicyInput['risk']> = {
  'crm.*': 'medium',
  'crm.read': 'low',
  'crm.delete': 'high',
  'crm.export': 'medium-high',
  'ticket.*': 'low',
  'report.*': 'low',
  'deploy.*': 'high',
  'hris.*': 'medium-high',
  'email.send': 'medium',
};

const BLOCKED_PAYEES = ['acct_shell_01', 'acct_shell_02', 'acct_fraud_77', 'acct_mule_13'];
const BANNED_MODELS = ['uncensored-70b', 'local-unvetted'];
const CHEAP_MODELS = ['claude-haiku', 'gpt-mini', 'llama-8b'];

/** 20 rules every agent is subject to. */
function globalRules(): Rule[] {
  return [
    {
      id: 'deny-large-payments',
      effect: 'deny',
      match: { type: 'payment.*', params: { amount: { gt: 10_000 } } },
      message: 'payments above 10,000 are never made by agents',
    },
    {
      id: 'deny-sanctioned-currencies',
      effect: 'deny',
      match: { type: 'payment.*', params: { currency: { in: ['RUB', 'IRR', 'KPW', 'SYP'] } } },
    },
    {
      id: 'deny-blocked-payees',
      effect: 'deny',
      match: { type: ['payment.send', 'payment.refund'], params: { to: { in: BLOCKED_PAYEES } } },
    },
    {
      id: 'ask-payments-over-1000',
      effect: 'ask',
      match: { type: 'payment.*', params: { amount: { gt: 1000 } } },
    },
    {
      id: 'allow-small-refunds',
      effect: 'allow',
      match: {
        type: 'payment.refund',
        params: { amount: { lte: 50 }, currency: { in: ['USD', 'EUR', 'GBP'] } },
      },
    },
    { id: 'deny-http-delete', effect: 'deny', match: { type: 'http.request', params: { method: 'DELETE' } } },
    {
      id: 'ask-http-writes',
      effect: 'ask',
      match: {
        type: 'http.request',
        agent: ['research', 'sales'],
        params: { method: { in: ['POST', 'PUT', 'PATCH'] } },
      },
    },
    {
      id: 'deny-secret-paths',
      effect: 'deny',
      match: { type: 'fs.*', params: { path: { contains: 'secret' } } },
    },
    { id: 'deny-env-files', effect: 'deny', match: { type: 'fs.*', params: { path: { contains: '.env' } } } },
    {
      id: 'deny-ssh-keys',
      effect: 'deny',
      match: { type: 'fs.read', params: { path: { contains: 'id_rsa' } } },
    },
    { id: 'ask-critical', effect: 'ask', match: { risk: 'critical' } },
    { id: 'deny-guest-user', effect: 'deny', match: { user: 'guest' }, message: 'guests act read-only' },
    {
      id: 'deny-banned-models',
      effect: 'deny',
      match: { type: 'llm.generate', params: { model: { in: BANNED_MODELS } } },
    },
    {
      id: 'ask-huge-generations',
      effect: 'ask',
      match: { type: 'llm.generate', params: { maxOutputTokens: { gt: 16_000 } } },
    },
    {
      id: 'allow-cheap-models',
      effect: 'allow',
      match: { type: 'llm.generate', params: { model: { in: CHEAP_MODELS } } },
    },
    {
      id: 'deny-crm-bulk-export',
      effect: 'deny',
      match: { type: 'crm.export', params: { rows: { gt: 5000 } } },
    },
    { id: 'ask-external-email', effect: 'ask', match: { type: 'email.send', params: { external: true } } },
    {
      id: 'deny-large-attachments',
      effect: 'deny',
      match: { type: 'email.send', params: { attachmentBytes: { gt: 10_000_000 } } },
    },
    {
      id: 'allow-deploy-staging',
      effect: 'allow',
      match: { type: 'deploy.*', agent: 'ops', params: { env: 'staging', frozen: false } },
    },
    { id: 'deny-deploy-freeze', effect: 'deny', match: { type: 'deploy.*', params: { frozen: true } } },
  ];
}

/** Eight rules per agent, thresholds varying by agent: 80 rules. */
function agentRules(agent: string, i: number): Rule[] {
  return [
    {
      id: `${agent}-write-quota`,
      effect: 'deny',
      match: { type: 'fs.write', agent, params: { bytes: { gt: 100_000 * (i + 1) } } },
    },
    {
      id: `${agent}-http-get`,
      effect: 'allow',
      match: { type: 'http.request', agent, risk: { atMost: 'medium-high' }, params: { method: 'GET' } },
    },
    {
      id: `${agent}-llm-budget`,
      effect: 'ask',
      match: { type: 'llm.generate', agent, params: { maxOutputTokens: { gt: 4000 + i * 1000 } } },
    },
    {
      id: `${agent}-crm-fields`,
      effect: 'allow',
      match: {
        type: 'crm.update',
        agent,
        params: { field: { in: ['status', 'owner', 'notes', 'stage', 'phone'] } },
      },
    },
    {
      id: `${agent}-crm-sensitive`,
      effect: 'deny',
      match: { type: ['crm.update', 'crm.read'], agent, params: { field: { in: ['ssn', 'bank_account'] } } },
    },
    {
      id: `${agent}-payment-limit`,
      effect: 'ask',
      match: { type: 'payment.send', agent, params: { amount: { gte: 200 * (i + 1) } } },
    },
    {
      id: `${agent}-email-internal`,
      effect: 'allow',
      match: { type: 'email.send', agent, params: { external: false, attachmentBytes: { lt: 1_000_000 } } },
    },
    {
      id: `${agent}-overwrite`,
      effect: 'ask',
      match: {
        type: ['fs.write', 'fs.delete'],
        agent,
        risk: { atLeast: 'medium' },
        params: { overwrite: true },
      },
    },
  ];
}

/** The policy (the TypeScript form, as `policyFromObject` takes it): exactly 100 rules. */
export function buildPolicy(): PolicyInput {
  const rules = [...globalRules(), ...Object.keys(AGENTS).flatMap((a, i) => agentRules(a, i))];
  if (rules.length !== RULE_COUNT) throw new Error(`policy-100 has ${rules.length} rules`);
  return { version: 1, agents: AGENTS, risk: RISK, rules };
}

// ---------------------------------------------------------------------------------------------
// Workload

/** mulberry32: a small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CONCRETE: Record<string, string[]> = {
  'fs.*': ['fs.read', 'fs.list', 'fs.write'],
  'crm.*': ['crm.read', 'crm.update', 'crm.delete', 'crm.export'],
  'payment.*': ['payment.send', 'payment.refund'],
  'deploy.*': ['deploy.run'],
  'report.*': ['report.build'],
  'ticket.*': ['ticket.create', 'ticket.close'],
  'hris.*': ['hris.lookup'],
};
const ALL_TYPES = [
  ...new Set(Object.values(CONCRETE).flat()),
  'http.request',
  'llm.generate',
  'email.send',
  'fs.delete',
];
const OTHER_PATHS = ['/etc', '/home/alice', '/data/finance', '/tmp', '/srv/keys', '/data/hr/payroll'];
const OTHER_HOSTS = ['evil.example.net', 'pastebin.com', 'api.stripe.com', 'db.internal.example.org'];
const FILES = ['notes.md', 'report.csv', 'q3/summary.txt', 'a/b/c.json', '.env', 'secret-plan.txt', 'id_rsa'];
const MODELS = [...CHEAP_MODELS, 'claude-opus', 'gpt-large', ...BANNED_MODELS];
const CURRENCIES = ['USD', 'USD', 'EUR', 'GBP', 'JPY', 'RUB'];
const PAYEES = ['acct_acme', 'acct_globex', 'acct_initech', 'acct_umbrella', ...BLOCKED_PAYEES];
const FIELDS = ['status', 'owner', 'notes', 'stage', 'phone', 'email', 'ssn', 'bank_account'];
const METHODS = ['GET', 'GET', 'GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
const USERS = ['alice', 'bob', 'carol', 'guest'];

function grantsOf(grant: unknown): string[] {
  if (!grant) return [];
  return Array.isArray(grant) ? (grant as string[]) : ((grant as { allow?: string[] }).allow ?? []);
}

/**
 * `count` distinct actions: mostly what each agent is granted (paths and hosts inside its grants),
 * some outside its grants, some hitting deny or ask rules, a few from an agent the policy does not
 * know. No `sql.query` (its parser is benchmarked separately).
 */
export function buildWorkload(count = 1000, seed = 0x5eed): ActionInput[] {
  const rand = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rand() * list.length)] as T;
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  /** Log-uniform integer in [lo, hi]: many small values, a tail of large ones. */
  const logInt = (lo: number, hi: number) => Math.round(Math.exp(Math.log(lo) + rand() * Math.log(hi / lo)));
  const names = Object.keys(AGENTS);

  const seen = new Set<string>();
  const out: ActionInput[] = [];
  while (out.length < count) {
    const agent = rand() < 0.03 ? 'unknown-bot' : pick(names);
    const config = AGENTS[agent];
    const granted = (config?.allow ?? []).flatMap((p) => CONCRETE[p] ?? [p]);
    const type = granted.length > 0 && rand() < 0.85 ? pick(granted) : pick(ALL_TYPES);
    const paths = grantsOf(config?.resources?.paths).map((g) => g.replace(/\/\*\*$/, ''));
    const hosts = grantsOf(config?.resources?.hosts).map((h) =>
      h.replace(/^\*\./, `${pick(['en', 'de', 'api'])}.`),
    );

    const params: Record<string, unknown> = {};
    const family = type.split('.')[0];
    if (family === 'fs') {
      const base = paths.length > 0 && rand() < 0.85 ? pick(paths) : pick(OTHER_PATHS);
      params.path = `${base}/${rand() < 0.15 ? pick(FILES) : `f${int(1, 400)}.${pick(['txt', 'md', 'csv'])}`}`;
      if (type === 'fs.write') {
        params.content = 'x'.repeat(int(1, 64));
        params.bytes = logInt(100, 2_000_000);
        if (rand() < 0.3) params.overwrite = rand() < 0.5;
      }
    } else if (type === 'http.request') {
      const host = hosts.length > 0 && rand() < 0.85 ? pick(hosts) : pick(OTHER_HOSTS);
      params.url = `https://${host}/v1/items/${int(1, 5000)}?q=${int(1, 99)}`;
      params.method = pick(METHODS);
    } else if (family === 'payment') {
      params.amount = logInt(1, 20_000);
      params.currency = pick(CURRENCIES);
      params.to = pick(PAYEES);
      params.memo = `invoice ${int(1000, 9999)}`;
    } else if (type === 'llm.generate') {
      params.model = pick(MODELS);
      params.prompt = `summarise document ${int(1, 10_000)}`;
      params.maxOutputTokens = logInt(100, 32_000);
    } else if (family === 'crm') {
      params.recordId = `rec_${int(1, 100_000)}`;
      params.field = pick(FIELDS);
      if (type === 'crm.update') params.value = `v${int(1, 1000)}`;
      if (type === 'crm.export') params.rows = logInt(10, 50_000);
    } else if (type === 'email.send') {
      params.to = `${pick(USERS)}@${rand() < 0.6 ? 'example.com' : 'partner.org'}`;
      params.external = rand() < 0.4;
      params.attachmentBytes = logInt(1, 20_000_000);
    } else if (family === 'deploy') {
      params.service = pick(['api', 'web', 'worker']);
      params.env = pick(['staging', 'staging', 'production']);
      params.frozen = rand() < 0.15;
    } else {
      params.ref = `r${int(1, 100_000)}`;
    }

    const action: ActionInput = { agent, type, params };
    if (rand() < 0.3) action.user = pick(USERS);
    const key = JSON.stringify(action);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(action);
  }
  return out;
}
