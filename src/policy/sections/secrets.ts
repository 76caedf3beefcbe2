import { z } from 'zod';

const ReviewEffect = z.enum(['allow', 'redact', 'ask', 'deny']);

/** Policy section `secrets` (see docs/secrets.md): outbound secrets, references, output review. */
export const SecretsPolicySchema = z
  .object({
    outbound: z
      .enum(['deny', 'ask', 'off'])
      .default('deny')
      .describe(
        'a secret in the URL, headers or body of an action to a host that is not its own service: `deny` (default, `secrets.exfiltration`), `ask`, or `off`',
      ),
    services: z
      .record(z.string().min(1), z.array(z.string().min(1)))
      .default({})
      .describe('rule name → more hosts that are that secret’s own service (`aws: [s3.internal.example]`)'),
    references: z
      .record(
        z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a name of letters, digits and `_`'),
        z
          .object({
            env: z.string().min(1).optional(),
            file: z.string().min(1).optional(),
            hosts: z
              .array(z.string().min(1))
              .optional()
              .describe(
                'the only hosts an action carrying this reference may go to; default any the agent is granted',
              ),
          })
          .strict()
          .refine(
            (r) => (r.env === undefined) !== (r.file === undefined),
            'expected exactly one of `env` or `file`',
          ),
      )
      .default({})
      .describe(
        '`{{secret:NAME}}` → where the value is read, only by executors: `{ env: VAR }` or `{ file: path }`; default the variable `WARDEN_SECRET_<NAME>`',
      ),
    review: z
      .object({
        secret: ReviewEffect.default('redact'),
        email: ReviewEffect.default('redact'),
        phone: ReviewEffect.default('redact'),
        card: ReviewEffect.default('redact'),
        iban: ReviewEffect.default('redact'),
        'national-id': ReviewEffect.default('redact'),
      })
      .strict()
      .prefault({})
      .describe(
        'output review (`llm.output`, `warden.review`): per kind, `allow`, `redact` (default), `ask` or `deny`',
      ),
    toolResults: z
      .enum(['secrets', 'all', 'none'])
      .default('secrets')
      .describe(
        "which of `review`'s kinds the adapters apply to tool results: `secrets` (default: secrets only, so an agent still reads the addresses, phone numbers and IBANs its work needs), `all`, or `none`",
      ),
  })
  .strict()
  .prefault({});

export type SecretsPolicy = z.infer<typeof SecretsPolicySchema>;
export type ReviewEffect = z.infer<typeof ReviewEffect>;

/**
 * Names Warden's own files go by, protected for every agent by default: the policy file, the
 * `.warden/` directory (store, tokens, logs), stores and token files by their usual names, and
 * signing keys. Matched like `fs.protected`, against every segment of a path.
 */
export const DEFAULT_SELF_PROTECTED = [
  '.warden',
  'warden.yaml',
  'warden.yml',
  'warden.json',
  'warden.db',
  'warden.db-*',
  'warden-tokens.json',
  '*.signing-key',
  'signing-key*',
] as const;

/** Policy section `selfProtection`: what no agent may touch by default, and the exceptions. */
export const SelfProtectionSchema = z
  .object({
    enabled: z.boolean().default(true).describe('protect Warden’s own files from every agent (default true)'),
    paths: z
      .array(z.string().min(1))
      .default([])
      .describe('more of Warden’s files: names, or absolute paths/globs (a store or tokens file elsewhere)'),
    exceptions: z
      .array(z.string().min(1))
      .default([])
      .describe('protected names or paths an agent may touch after all; each must be named exactly'),
  })
  .strict()
  .prefault({});

export type SelfProtection = z.infer<typeof SelfProtectionSchema>;
