import { ApprovalError } from '../../approvals/approvals.js';
import {
  APPROVE_ACTION,
  DENY_ACTION,
  outcomeText,
  verifySlackRequest,
} from '../../approvals/channels/slack.js';
import { type SlackConfig, slackApprover } from '../../policy/sections/approvals.js';
import type { ApprovalRecord } from '../../store/store.js';
import { type App, fail, type ServerDeps } from '../http.js';

interface BlockActionsPayload {
  type?: string;
  user?: { id?: string; username?: string };
  actions?: Array<{ action_id?: string; value?: string }>;
  response_url?: string;
}

/**
 * `POST /v1/slack/interactions`: Slack's interactivity callback (form-encoded `payload=`). The
 * request is authenticated by Slack's v0 signature and a timestamp within five minutes, checked
 * on the raw body before anything in it is read; only then is the clicking Slack user mapped to
 * an approver through the policy (unmapped users cannot vote) and the vote counted like any
 * other, bound to the digest the button carried.
 */
export function registerSlackRoutes(app: App, { warden }: ServerDeps): void {
  const config = warden.policy.config.approvals.channels.slack;
  app.post('/v1/slack/interactions', async (c) => {
    const secret = config ? process.env[config.signingSecretEnv] : undefined;
    if (!config || !secret) {
      return fail(
        c,
        'slack.not-configured',
        'Slack is not configured: see `approvals.channels.slack` in docs/policy.md',
      );
    }
    const raw = await c.req.text();
    const verified = verifySlackRequest(
      secret,
      { timestamp: c.req.header('x-slack-request-timestamp'), signature: c.req.header('x-slack-signature') },
      raw,
    );
    if (!verified.ok) return fail(c, verified.code, verified.message);

    let payload: BlockActionsPayload;
    try {
      payload = JSON.parse(new URLSearchParams(raw).get('payload') ?? '') as BlockActionsPayload;
    } catch {
      return fail(c, 'slack.bad-payload', 'expected a form field `payload` holding JSON');
    }
    const action = payload.actions?.[0];
    const vote =
      action?.action_id === APPROVE_ACTION
        ? 'approve'
        : action?.action_id === DENY_ACTION
          ? 'deny'
          : undefined;
    let target: { id?: unknown; digest?: unknown } = {};
    try {
      target = JSON.parse(action?.value ?? '{}') as typeof target;
    } catch {
      target = {};
    }
    if (
      payload.type !== 'block_actions' ||
      !vote ||
      typeof target.id !== 'string' ||
      typeof target.digest !== 'string'
    ) {
      return fail(c, 'slack.bad-payload', 'not a Warden Approve / Deny button click');
    }
    const userId = payload.user?.id ?? '';
    const approver = slackApprover(config, userId);
    if (!approver) {
      await respond(config, payload.response_url, {
        response_type: 'ephemeral',
        replace_original: false,
        text: `Your Slack user ${userId} is not mapped to a Warden approver, so your vote was not counted. Ask an admin to add it under \`approvals.channels.slack.users\`.`,
      });
      return c.json({
        ok: false,
        error: {
          code: 'slack.unmapped-user',
          message: `Slack user \`${userId}\` is not mapped to an approver`,
        },
      });
    }
    let record: ApprovalRecord;
    try {
      record = await warden.approvals.vote({
        id: target.id,
        approver: approver.name,
        role: approver.role,
        vote,
        channel: 'slack',
        digest: target.digest,
      });
    } catch (e) {
      if (!(e instanceof ApprovalError)) throw e;
      await respond(config, payload.response_url, {
        response_type: 'ephemeral',
        replace_original: false,
        text: `Your vote was not counted: ${e.message}`,
      });
      return c.json({ ok: false, error: { code: e.code, message: e.message } });
    }
    await respond(config, payload.response_url, {
      replace_original: record.status !== 'pending',
      text: outcomeText(record),
    });
    return c.json({ ok: true, approval: { id: record.id, status: record.status } });
  });
}

/** Replies through Slack's `response_url`, but only to the prefix the policy trusts (default hooks.slack.com). */
async function respond(
  config: SlackConfig,
  url: string | undefined,
  body: Record<string, unknown>,
): Promise<void> {
  if (!url?.startsWith(config.responseUrlPrefix)) return;
  try {
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(3000),
    });
  } catch (e) {
    process.emitWarning(`Slack response_url call failed: ${String(e)}`);
  }
}
