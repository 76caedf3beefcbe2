import { z } from 'zod';

/**
 * The `limits` policy section: rate limits, budgets, steps, session duration, loop detection,
 * prices and the backend that holds the counters. `docs/policy.md#limits` documents each field.
 */

const DURATION = /^\d+(\.\d+)?\s*(ms|s|m|h|d)$/;
const Duration = z.string().regex(DURATION, 'expected a duration such as `1s`, `1m`, `1h` or `1d`');

const patterns = z.union([z.string().min(1), z.array(z.string().min(1))]);

/** Which actions a limit counts: name patterns over type, agent, user and tool. Absent: all. */
const MatchSchema = z
  .object({
    type: patterns.optional().describe('action type patterns'),
    agent: patterns.optional().describe('agent name patterns'),
    user: patterns.optional().describe('user name patterns'),
    tool: patterns.optional().describe('tool name patterns (see `scope: tool`)'),
  })
  .strict()
  .default({});

export const SCOPES = ['agent', 'user', 'session', 'type', 'tool'] as const;
export type Scope = (typeof SCOPES)[number];
const ScopeSchema = z
  .union([z.enum(SCOPES), z.array(z.enum(SCOPES)).min(1)])
  .describe('what one counter is kept for: one scope or a combination');

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
const NameSchema = z.string().regex(NAME, 'expected a name of letters, digits, `-`, `_` and `.`');

/** Window → most actions admitted in it: `{ 1s: 5, 1m: 60 }`. */
const Windows = z.record(z.string(), z.number().int().positive()).superRefine((w, ctx) => {
  if (Object.keys(w).length === 0) {
    ctx.addIssue({ code: 'custom', message: 'expected at least one window such as `1m: 10`' });
  }
  for (const key of Object.keys(w)) {
    if (!DURATION.test(key)) {
      ctx.addIssue({
        code: 'custom',
        path: [key],
        message: `window \`${key}\` is not a duration: expected e.g. \`1s\`, \`1m\`, \`1h\` or \`1d\``,
      });
    }
  }
});

export const RateRuleSchema = z
  .object({
    name: NameSchema.optional().describe(
      'shown in denials and `warden limits`; default: the scope (`agent+tool`), with `-2`, `-3`… when two rules share it',
    ),
    scope: ScopeSchema.default('agent'),
    match: MatchSchema,
    windows: Windows.describe('window → most actions admitted in it, e.g. `{ 1s: 5, 1m: 60 }`'),
    algorithm: z
      .enum(['sliding', 'bucket'])
      .default('sliding')
      .describe(
        '`sliding` (exact sliding log, the default) or `bucket` (token bucket: bursts up to `burst`)',
      ),
    burst: z.number().int().positive().optional().describe('token bucket capacity; default the window limit'),
  })
  .strict();

export const BudgetRuleSchema = z
  .object({
    name: NameSchema.optional().describe('default `budget-<n>`'),
    scope: ScopeSchema.default('agent'),
    match: MatchSchema,
    usd: z.number().positive().finite().describe('the budget, in US dollars'),
    period: z
      .enum(['run', 'hour', 'day', 'month', 'total'])
      .default('total')
      .describe('`run` (per session), `hour`/`day`/`month` (UTC calendar periods) or `total`'),
  })
  .strict();

const PriceSchema = z
  .object({
    input: z.number().nonnegative().describe('USD per million input tokens'),
    output: z.number().nonnegative().describe('USD per million output tokens'),
    cachedInput: z.number().nonnegative().optional().describe('USD per million cached input tokens'),
  })
  .strict();

const ConnectionSchema = z
  .object({
    url: z
      .string()
      .min(1)
      .optional()
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal `${VAR}` syntax is what it documents
      .describe('connection URL; `${VAR}` is replaced by the environment variable'),
    urlEnv: z.string().min(1).optional().describe('name of an environment variable holding the URL'),
    prefix: z.string().min(1).default('warden').describe('key prefix (Redis) or schema name (PostgreSQL)'),
    timeout: Duration.default('500ms').describe('how long one command may take before the action is denied'),
  })
  .strict();

export const LimitsSchema = z
  .object({
    backend: z
      .enum(['memory', 'sqlite', 'redis', 'postgres'])
      .optional()
      .describe(
        'where counters live; default follows the store (sqlite for SQLite, postgres for PostgreSQL, else memory)',
      ),
    redis: ConnectionSchema.optional(),
    postgres: ConnectionSchema.optional(),
    rate: z.array(RateRuleSchema).default([]),
    budgets: z.array(BudgetRuleSchema).default([]),
    steps: z
      .object({ max: z.number().int().positive(), match: MatchSchema })
      .strict()
      .optional()
      .describe('most actions per session (the guide’s `max_iterations`)'),
    duration: z
      .object({ max: Duration, match: MatchSchema })
      .strict()
      .optional()
      .describe('longest wall-clock time from a session’s first action (`max_execution_time`)'),
    loop: z
      .object({ max: z.number().int().positive(), window: Duration.default('10m'), match: MatchSchema })
      .strict()
      .optional()
      .describe('the same type + params admitted at most `max` times per session in `window`'),
    tighten: z
      .object({
        factor: z
          .number()
          .min(1)
          .finite()
          .default(4)
          .describe(
            "a tightened agent's rate windows (and bucket bursts) are divided by this, rounded down, never below 1",
          ),
        emergency: z
          .union([z.literal(false), Windows])
          .default({ '1m': 10 })
          .describe(
            'windows of the emergency rate limit for the actions of a tightened agent that no rate rule counts; `false`: none',
          ),
      })
      .strict()
      .prefault({})
      .describe(
        'what `tighten-limits` (an anomaly response, `monitoring.anomalies.*.response`) does to an agent, until an operator clears it',
      ),
    sessionTtl: Duration.default('24h').describe('how long step, duration and loop state is kept'),
    holdTtl: Duration.default('1h').describe(
      'how long a budget hold waits for its result before it is released by itself',
    ),
    outputTokens: z
      .number()
      .int()
      .positive()
      .default(1024)
      .describe('output tokens assumed for an estimate when `maxOutputTokens` is not given'),
    prices: z
      .record(z.string().min(1), PriceSchema)
      .default({})
      .describe('model → price; overrides the table'),
  })
  .strict()
  .superRefine((limits, ctx) => {
    for (const which of ['redis', 'postgres'] as const) {
      const conn = limits[which];
      if (limits.backend === which && !conn?.url && !conn?.urlEnv) {
        ctx.addIssue({
          code: 'custom',
          path: [which],
          message: `\`backend: ${which}\` needs \`${which}.url\` (\`\${VAR}\` allowed) or \`${which}.urlEnv\``,
        });
      }
    }
  });

export type LimitsConfig = z.infer<typeof LimitsSchema>;
export type RateRuleConfig = z.infer<typeof RateRuleSchema>;
export type BudgetRuleConfig = z.infer<typeof BudgetRuleSchema>;
export type PriceConfig = z.infer<typeof PriceSchema>;
export type ConnectionConfig = z.infer<typeof ConnectionSchema>;
export type MatchConfig = z.infer<typeof MatchSchema>;
