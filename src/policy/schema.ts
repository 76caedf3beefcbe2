import { z } from 'zod';
import { RISK_LEVELS } from '../contract/risk.js';
import { ApprovalChannelsSchema } from './sections/approvals.js';
import { AuditSyncSchema } from './sections/audit.js';
import { FsPolicySchema } from './sections/fs.js';
import { HttpPolicySchema } from './sections/http.js';
import { LimitsSchema } from './sections/limits.js';
import { McpSectionSchema } from './sections/mcp.js';
import { MonitoringSchema } from './sections/monitor.js';
import { SandboxPolicySchema } from './sections/sandbox.js';
import { SecretsPolicySchema, SelfProtectionSchema } from './sections/secrets.js';
import { ShellPolicySchema } from './sections/shell.js';
import { SqlPolicySchema } from './sections/sql.js';
import { AfterMatchSchema, UntrustedPolicySchema } from './sections/untrusted.js';

/**
 * The policy file (`warden.yaml`), one zod schema per section. This is the single source for the
 * types, the defaults and the bounds; `docs/policy.md` documents the same fields.
 */

const RiskSchema = z.enum(RISK_LEVELS);
const patterns = (what: string) =>
  z.union([z.string().min(1), z.array(z.string().min(1))]).describe(`one ${what} pattern or a list of them`);

const ResourceGrantSchema = z.union([
  z.array(z.string().min(1)),
  z
    .object({ allow: z.array(z.string().min(1)).default([]), deny: z.array(z.string().min(1)).default([]) })
    .strict(),
]);

export const AgentSchema = z
  .object({
    description: z.string().optional(),
    allow: z
      .array(z.string().min(1))
      .default([])
      .describe('action type patterns the agent may use; default none'),
    deny: z.array(z.string().min(1)).default([]).describe('action type patterns refused even when allowed'),
    resources: z
      .object({
        paths: ResourceGrantSchema.optional().describe('path globs for fs.* actions; required to use fs.*'),
        hosts: ResourceGrantSchema.optional().describe('host patterns for http.request; required to use it'),
        tables: ResourceGrantSchema.optional().describe('table patterns for sql.query; required to use it'),
      })
      .strict()
      .default({}),
    code: z
      .array(z.string().min(1).startsWith('/', 'expected an absolute path or glob such as `/srv/agent/**`'))
      .default([])
      .describe('the agent’s own code and configuration: protected from every agent (`selfProtection`)'),
  })
  .strict();

const ScalarSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const ConditionSchema = z.union([
  ScalarSchema,
  z
    .object({
      equals: ScalarSchema.optional(),
      notEquals: ScalarSchema.optional(),
      in: z.array(ScalarSchema).optional(),
      notIn: z.array(ScalarSchema).optional(),
      glob: z.string().optional(),
      regex: z.string().optional(),
      contains: z.string().optional(),
      gt: z.number().optional(),
      gte: z.number().optional(),
      lt: z.number().optional(),
      lte: z.number().optional(),
      exists: z.boolean().optional(),
    })
    .strict()
    .refine((c) => Object.keys(c).length > 0, 'expected at least one operator such as `equals` or `gt`'),
]);
export type Condition = z.infer<typeof ConditionSchema>;

const RiskMatchSchema = z.union([
  RiskSchema,
  z.array(RiskSchema),
  z.object({ atLeast: RiskSchema.optional(), atMost: RiskSchema.optional() }).strict(),
]);

/** Roles that can vote: the `approver` and `admin` roles of the control plane's tokens. */
const VoterRolesSchema = z.array(z.enum(['approver', 'admin'])).min(1);

const ApprovalRequirementSchema = z
  .object({
    required: z.number().int().min(1).max(20).default(1),
    roles: VoterRolesSchema.default(['approver', 'admin']),
  })
  .strict();

export const RuleSchema = z
  .object({
    id: z
      .string()
      .regex(/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/, 'expected an id of letters, digits, `-`, `_` and `.`'),
    effect: z.enum(['allow', 'deny', 'ask']),
    description: z.string().optional(),
    match: z
      .object({
        type: patterns('action type').optional(),
        agent: patterns('agent').optional(),
        user: patterns('user').optional(),
        risk: RiskMatchSchema.optional(),
        params: z.record(z.string(), ConditionSchema).optional(),
        after: AfterMatchSchema.optional().describe(
          'flow rule: the session has read content from these sources carrying these labels (SPEC §2b)',
        ),
      })
      .strict()
      .default({}),
    message: z.string().optional().describe('told to the agent and the approver'),
    approvals: ApprovalRequirementSchema.partial().optional(),
  })
  .strict();
export type RuleConfig = z.infer<typeof RuleSchema>;

const DurationSchema = z.union([
  z.number().positive(),
  z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, 'expected a duration such as `30s`, `15m` or `1h`'),
]);

export const PolicySchema = z
  .object({
    version: z.literal(1).default(1),
    agents: z.record(z.string().min(1), AgentSchema).default({}),
    risk: z.record(z.string().min(1), RiskSchema).default({}).describe('action type pattern → risk level'),
    rules: z.array(RuleSchema).default([]),
    approvals: z
      .object({
        timeout: DurationSchema.default('15m'),
        required: z.number().int().min(1).max(20).default(1),
        roles: VoterRolesSchema.default(['approver', 'admin']),
        financialRequired: z.number().int().min(1).max(20).default(2),
        channels: ApprovalChannelsSchema.prefault({}),
      })
      .strict()
      .prefault({}),
    execution: z
      .object({ timeout: DurationSchema.default('30s') })
      .strict()
      .default({ timeout: '30s' }),
    audit: z
      .object({
        maxBatch: z.number().int().min(1).max(100_000).default(250),
        sync: AuditSyncSchema.default('full'),
      })
      .strict()
      .prefault({}),
    store: z
      .object({
        url: z.string().min(1).optional().describe(
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal `${VAR}` syntax is what it documents
          'the store `warden serve`, `warden mcp` and `warden limits` open when neither `--db` nor `$WARDEN_DB` names one: a SQLite file or `postgres://…` (`${VAR}` is replaced by the environment variable, so a password stays out of the file)',
        ),
        urlEnv: z
          .string()
          .min(1)
          .optional()
          .describe('name of an environment variable holding the store URL'),
      })
      .strict()
      .prefault({}),
    mcp: McpSectionSchema.prefault({}),
    fs: FsPolicySchema,
    sql: SqlPolicySchema,
    limits: LimitsSchema.prefault({}),
    http: HttpPolicySchema.prefault({}),
    shell: ShellPolicySchema.prefault({}),
    sandbox: SandboxPolicySchema.prefault({}),
    monitoring: MonitoringSchema,
    untrusted: UntrustedPolicySchema.prefault({}),
    secrets: SecretsPolicySchema,
    selfProtection: SelfProtectionSchema,
  })
  .strict();

export type PolicyConfig = z.infer<typeof PolicySchema>;
export type PolicyInput = z.input<typeof PolicySchema>;
export type AgentConfig = z.infer<typeof AgentSchema>;

/** Parses `30s`, `15m`, `1h`, `2d`, `250ms` (or a number of seconds) into milliseconds. */
export function durationMs(value: string | number): number {
  if (typeof value === 'number') return value * 1000;
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value);
  if (!m) throw new Error(`invalid duration \`${value}\`: expected a number and a unit such as \`30s\``);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    m[2] as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Number(m[1]) * unit;
}
