import { z } from 'zod';

/**
 * The policy's `untrusted` section: what Warden does with what an agent has read (SPEC §2b).
 * Defaults keep agents useful (almost every session reads something untrusted): only a session
 * where an injection was detected has its consequential actions asked about, reads stay
 * allowed, and argument provenance asks when a control parameter's value came from untrusted
 * content and not from the user. See docs/untrusted-content.md.
 */

const Effect = z.enum(['ask', 'deny']);
const Trigger = z
  .enum(['injection', 'untrusted'])
  .describe(
    '`injection` (default): the flow rule applies once a detector found an injection in the session; `untrusted`: once any untrusted content entered it',
  );

export const CONSEQUENTIAL_DEFAULT = [
  'http.request',
  'fs.write',
  'fs.delete',
  'fs.move',
  'shell.exec',
  'code.exec',
  'payment.*',
  'email.*',
  'message.*',
  'sql.query',
];

export const CONTROL_PARAMS_DEFAULT = [
  'to',
  'recipient',
  'recipients',
  'cc',
  'bcc',
  'account',
  'iban',
  'payee',
  'destination',
  'url',
  'host',
  'endpoint',
  'webhook',
  'path',
  'command',
  'argv',
  'email',
  'phone',
  'address',
];

const AgentTaintSchema = z
  .object({
    trigger: Trigger.optional(),
    effect: Effect.optional(),
    provenance: Effect.or(z.literal(false))
      .optional()
      .describe('`ask`, `deny`, or `false` to turn provenance off for the agent'),
  })
  .strict();

export const UntrustedPolicySchema = z
  .object({
    enabled: z.boolean().default(true).describe('learn observations and apply the flow rules; default true'),
    trusted: z
      .array(z.string().min(1))
      .default(['user', 'system'])
      .describe(
        'source patterns whose content is trusted (a trailing `*` is a prefix); default `user`, `system`; every other source is untrusted',
      ),
    keepContent: z
      .boolean()
      .default(false)
      .describe('store the text of observations (default false: only its digest, findings and value hashes)'),
    trigger: Trigger.default('injection'),
    effect: Effect.default('ask').describe(
      'what a consequential action gets in a triggered session; default `ask`',
    ),
    consequential: z
      .array(z.string().min(1))
      .default(CONSEQUENTIAL_DEFAULT)
      .describe(
        'action type patterns that can exfiltrate or act irreversibly; `http.request` GET/HEAD to a host the session has seen and read-only `sql.query` stay reads',
      ),
    provenance: z
      .object({
        enabled: z.boolean().default(true),
        effect: Effect.default('ask'),
        params: z
          .array(z.string().min(1))
          .default(CONTROL_PARAMS_DEFAULT)
          .describe(
            'parameters in a control position (recipients, accounts, URLs, hosts, paths, commands); `amount` is not in the default list',
          ),
      })
      .strict()
      .prefault({}),
    agents: z
      .record(z.string().min(1), AgentTaintSchema)
      .default({})
      .describe('per-agent overrides, e.g. `{ finance-agent: { trigger: untrusted, effect: deny } }`'),
    maxSessions: z
      .number()
      .int()
      .min(10)
      .max(10_000_000)
      .default(100_000)
      .describe('sessions kept in memory per process (least recently used are reloaded from the store)'),
  })
  .strict();

export type UntrustedPolicy = z.infer<typeof UntrustedPolicySchema>;

/** `rules[].match.after`: the session has read content from `source` carrying `label`. */
export const AfterMatchSchema = z
  .object({
    source: z
      .union([z.string().min(1), z.array(z.string().min(1))])
      .optional()
      .describe('source patterns such as `http:*` or `mcp:github/*`'),
    label: z
      .union([z.string().min(1), z.array(z.string().min(1))])
      .optional()
      .describe(
        'labels such as `injection`, `untrusted`, `secret`, `injection:override`; default `untrusted`',
      ),
  })
  .strict();
