import type { CompiledPolicy } from '../../policy/compile.js';
import type { ApprovalChannel } from '../approval-channel.js';
import { SlackChannel } from './slack.js';
import { WebhookChannel } from './webhook.js';

/** Reads a secret named by the policy from the environment; a missing one is a clear error. */
export function secretFromEnv(name: string, what: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${what}: environment variable \`${name}\` is not set; export it before starting Warden`);
  }
  return value;
}

/** The channels the policy's `approvals.channels` section asks for (Slack, webhooks). */
export function channelsFromPolicy(policy: CompiledPolicy): ApprovalChannel[] {
  const config = policy.config.approvals.channels;
  const channels: ApprovalChannel[] = [];
  if (config.slack) {
    const url =
      config.slack.webhookUrl ??
      secretFromEnv(config.slack.webhookUrlEnv as string, 'approvals.channels.slack.webhookUrlEnv');
    // Fail at start, not at the first click: the interactivity endpoint needs the secret.
    secretFromEnv(config.slack.signingSecretEnv, 'approvals.channels.slack.signingSecretEnv');
    channels.push(new SlackChannel(url, config.slack.dashboardUrl));
  }
  config.webhooks.forEach((w, i) => {
    const secret = secretFromEnv(w.secretEnv, `approvals.channels.webhooks[${i}].secretEnv`);
    channels.push(new WebhookChannel(w.url, secret, w.name ?? `webhook:${new URL(w.url).host}`));
  });
  return channels;
}
