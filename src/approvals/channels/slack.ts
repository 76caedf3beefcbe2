import { createHmac } from 'node:crypto';
import { equalSecrets } from '../../lib/equal-secrets.js';
import type { ApprovalRecord } from '../../store/store.js';
import type { ApprovalChannel } from '../approval-channel.js';

/** Slack refuses requests older than five minutes; so do we (replay protection). */
export const SLACK_MAX_AGE_S = 5 * 60;
export const APPROVE_ACTION = 'warden_approve';
export const DENY_ACTION = 'warden_deny';

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the signing secret (Slack's scheme). */
export function slackSignature(secret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

export type SlackVerification = { ok: true } | { ok: false; code: string; message: string };

/**
 * Verifies a request from Slack BEFORE anything in it is believed: the timestamp must be within
 * five minutes of now and the signature must match (constant-time comparison).
 */
export function verifySlackRequest(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  rawBody: string,
  nowS: number = Date.now() / 1000,
): SlackVerification {
  const ts = headers.timestamp;
  if (!ts || !/^\d{1,12}$/.test(ts)) {
    return {
      ok: false,
      code: 'slack.bad-timestamp',
      message: '`X-Slack-Request-Timestamp` is missing or not a number',
    };
  }
  if (Math.abs(nowS - Number(ts)) > SLACK_MAX_AGE_S) {
    return {
      ok: false,
      code: 'slack.stale-timestamp',
      message: 'the request timestamp is more than five minutes from now; it may be a replay',
    };
  }
  if (!equalSecrets(headers.signature, slackSignature(secret, ts, rawBody))) {
    return {
      ok: false,
      code: 'slack.bad-signature',
      message: '`X-Slack-Signature` does not match the signing secret',
    };
  }
  return { ok: true };
}

const PARAMS_CHARS = 1500;

/** The Block Kit message for a request: what, who, risk, why, and Approve / Deny buttons. */
export function approvalMessage(r: ApprovalRecord, dashboardUrl?: string): Record<string, unknown> {
  const value = JSON.stringify({ id: r.id, digest: r.digest });
  let params = JSON.stringify(r.action.params ?? {}, null, 1);
  if (params.length > PARAMS_CHARS) params = `${params.slice(0, PARAMS_CHARS)}…`;
  const reasons = r.decision.reasons.map((x) => `• \`${x.code}\` ${mrkdwnEscape(x.message)}`).join('\n');
  const blocks: Record<string, unknown>[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: `Approval needed: ${r.action.type} by ${r.agent}`.slice(0, 150) },
    },
    {
      type: 'section',
      fields: [
        {
          type: 'mrkdwn',
          text: `*Agent*\n${mrkdwnEscape(r.agent)}${r.user ? ` (for ${mrkdwnEscape(r.user)})` : ''}`,
        },
        { type: 'mrkdwn', text: `*Risk*\n${r.decision.risk}` },
        { type: 'mrkdwn', text: `*Approvals*\n${r.required} of ${r.roles.join('/')}` },
        {
          type: 'mrkdwn',
          text: `*Expires*\n<!date^${Math.floor(Date.parse(r.expiresAt) / 1000)}^{time}|${r.expiresAt}>`,
        },
      ],
    },
  ];
  if (r.action.description) {
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: `*What*\n${mrkdwnEscape(r.action.description)}` },
    });
  }
  blocks.push(
    { type: 'section', text: { type: 'mrkdwn', text: `*Why it waits*\n${reasons}`.slice(0, 3000) } },
    { type: 'section', text: { type: 'mrkdwn', text: `*Params*\n\`\`\`${mrkdwnEscape(params)}\`\`\`` } },
    {
      type: 'actions',
      block_id: `warden:${r.id}`,
      elements: [
        {
          type: 'button',
          action_id: APPROVE_ACTION,
          style: 'primary',
          text: { type: 'plain_text', text: 'Approve' },
          value,
        },
        {
          type: 'button',
          action_id: DENY_ACTION,
          style: 'danger',
          text: { type: 'plain_text', text: 'Deny' },
          value,
          confirm: {
            title: { type: 'plain_text', text: 'Deny this action?' },
            text: { type: 'plain_text', text: `${r.agent} will be told it was denied.` },
            confirm: { type: 'plain_text', text: 'Deny' },
            deny: { type: 'plain_text', text: 'Cancel' },
          },
        },
      ],
    },
    {
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: `${r.id} · digest \`${r.digest.slice(0, 16)}…\`${dashboardUrl ? ` · <${dashboardUrl}|open the dashboard>` : ''}`,
        },
      ],
    },
  );
  return { text: `Approval needed: ${r.agent} wants ${r.action.type} (${r.decision.risk} risk)`, blocks };
}

/** A one-line account of how a request ended, for the message that replaces the buttons. */
export function outcomeText(r: ApprovalRecord): string {
  const votes = r.votes.map(
    (v) => `${v.vote === 'approve' ? '✅' : '⛔'} ${v.approver}${v.comment ? ` (“${v.comment}”)` : ''}`,
  );
  const state =
    r.status === 'pending'
      ? `pending: ${r.votes.filter((v) => v.vote === 'approve').length} of ${r.required} approvals`
      : r.status;
  return `${r.action.type} by ${r.agent} — *${state}*${votes.length ? `: ${votes.join(', ')}` : ''} (${r.id})`;
}

function mrkdwnEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * Posts each request to a Slack incoming webhook as a message with Approve / Deny buttons; the
 * clicks come back to `POST /v1/slack/interactions`, which verifies Slack's signature before
 * counting a vote. An incoming webhook cannot edit its message, so the outcome of a request
 * decided elsewhere is posted as a short follow-up.
 */
export class SlackChannel implements ApprovalChannel {
  readonly name = 'slack';
  constructor(
    private readonly webhookUrl: string,
    private readonly dashboardUrl?: string,
    private readonly timeoutMs = 5000,
  ) {}

  notify(request: ApprovalRecord): Promise<void> {
    return this.post(approvalMessage(request, this.dashboardUrl));
  }

  decided(request: ApprovalRecord): Promise<void> | undefined {
    // A click in Slack already replaced its message through `response_url`.
    if (request.votes.at(-1)?.channel === 'slack' && request.status !== 'expired') return undefined;
    return this.post({ text: outcomeText(request) });
  }

  private async post(body: Record<string, unknown>): Promise<void> {
    const res = await fetch(this.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) throw new Error(`Slack webhook answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  }
}
