import { z } from 'zod';

const envName = z
  .string()
  .regex(/^[A-Z_][A-Z0-9_]*$/, 'expected an environment variable name such as `SLACK_SIGNING_SECRET`');

const SlackUserSchema = z.union([
  z.string().min(1),
  z.object({ name: z.string().min(1), role: z.enum(['approver', 'admin']).default('approver') }).strict(),
]);

/**
 * `approvals.channels` in the policy: where approval requests are sent besides the dashboard,
 * the CLI and the API. Secrets are never written in the policy: it names the environment
 * variables that hold them.
 */
export const ApprovalChannelsSchema = z
  .object({
    slack: z
      .object({
        webhookUrl: z.url().optional().describe('Slack incoming webhook URL; or use `webhookUrlEnv`'),
        webhookUrlEnv: envName.optional().describe('environment variable holding the webhook URL'),
        signingSecretEnv: envName
          .default('SLACK_SIGNING_SECRET')
          .describe('environment variable holding the Slack app’s signing secret'),
        users: z
          .record(z.string(), SlackUserSchema)
          .superRefine((users, ctx) => {
            for (const id of Object.keys(users)) {
              if (!/^[UW][A-Z0-9]{2,}$/.test(id)) {
                ctx.addIssue({
                  code: 'custom',
                  path: [id],
                  message: `expected a Slack member id such as \`U012AB3CD\` (profile → ⋯ → Copy member ID), got \`${id}\``,
                });
              }
            }
          })
          .default({})
          .describe(
            'Slack user id → approver identity (a name, or `{ name, role }`); unmapped users cannot vote',
          ),
        responseUrlPrefix: z
          .string()
          .default('https://hooks.slack.com/')
          .describe('only `response_url`s starting with this are called back'),
        dashboardUrl: z.url().optional().describe('linked from each message'),
      })
      .strict()
      .refine(
        (s) => (s.webhookUrl === undefined) !== (s.webhookUrlEnv === undefined),
        'expected exactly one of `webhookUrl` or `webhookUrlEnv`',
      )
      .optional(),
    webhooks: z
      .array(
        z
          .object({
            name: z.string().min(1).optional(),
            url: z.url(),
            secretEnv: envName.describe('environment variable holding the HMAC secret'),
          })
          .strict(),
      )
      .default([])
      .describe('generic webhooks: signed JSON POSTs for each request and each outcome'),
  })
  .strict();

export type ApprovalChannelsConfig = z.infer<typeof ApprovalChannelsSchema>;
export type SlackConfig = NonNullable<ApprovalChannelsConfig['slack']>;

/** The approver a Slack user speaks for, or undefined when the policy does not map them. */
export function slackApprover(
  config: SlackConfig,
  userId: string,
): { name: string; role: 'approver' | 'admin' } | undefined {
  const entry = Object.hasOwn(config.users, userId) ? config.users[userId] : undefined;
  if (entry === undefined) return undefined;
  return typeof entry === 'string' ? { name: entry, role: 'approver' } : entry;
}
