import { createTransport } from 'nodemailer';
import type { Alert, AlertSink } from '../../contract/alert.js';
import { webhookHeaders } from '../../lib/webhook-signature.js';
import { resolveSecret, type SinkConfig } from '../../policy/sections/monitor.js';

export { signWebhook } from '../../lib/webhook-signature.js';

const EMOJI: Record<Alert['severity'], string> = {
  info: ':information_source:',
  warning: ':warning:',
  critical: ':rotating_light:',
};

async function post(
  url: string,
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<void> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    signal,
    redirect: 'error',
  });
  const text = await response.text().catch(() => '');
  if (!response.ok) throw new Error(`HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
}

function lines(alert: Alert): string {
  const who = [alert.agent ? `agent ${alert.agent}` : '', alert.actionId ? `action ${alert.actionId}` : '']
    .filter(Boolean)
    .join(', ');
  return `${alert.text}${who ? `\n${who}` : ''}\ncode ${alert.code}${alert.seq ? `, audit record ${alert.seq}` : ''}, ${alert.at}`;
}

/** Slack incoming webhook: `{ text, blocks }`. */
export function slackSink(config: Extract<SinkConfig, { type: 'slack' }>): AlertSink {
  const url = resolveSecret(config.url, 'monitoring.alerts.sinks[slack].url');
  return {
    name: config.name ?? 'slack',
    deliver(alert, signal) {
      const text = `${EMOJI[alert.severity]} *${alert.title}*\n${lines(alert)}`;
      const body = {
        text,
        blocks: [
          { type: 'header', text: { type: 'plain_text', text: alert.title.slice(0, 150) } },
          { type: 'section', text: { type: 'mrkdwn', text: lines(alert).slice(0, 2900) } },
        ],
      };
      return post(url, JSON.stringify(body), {}, signal);
    },
  };
}

const PD_SEVERITY: Record<Alert['severity'], string> = {
  info: 'info',
  warning: 'warning',
  critical: 'critical',
};

/** PagerDuty Events API v2 (`/v2/enqueue`): a `trigger` event deduplicated by the alert key. */
export function pagerDutySink(config: Extract<SinkConfig, { type: 'pagerduty' }>): AlertSink {
  const routingKey = resolveSecret(config.routingKey, 'monitoring.alerts.sinks[pagerduty].routingKey');
  return {
    name: config.name ?? 'pagerduty',
    deliver(alert, signal) {
      const body = {
        routing_key: routingKey,
        event_action: 'trigger',
        dedup_key: alert.key.slice(0, 255),
        payload: {
          summary: `${alert.title}: ${alert.text}`.slice(0, 1024),
          severity: PD_SEVERITY[alert.severity],
          source: config.source,
          component: alert.agent ?? 'warden',
          class: alert.code,
          timestamp: alert.at,
          custom_details: { ...alert.details, actionId: alert.actionId, seq: alert.seq },
        },
      };
      return post(config.url, JSON.stringify(body), {}, signal);
    },
  };
}

/**
 * A generic webhook: the alert as JSON, signed like every Warden webhook
 * (`lib/webhook-signature.ts`): `x-warden-timestamp` is the Unix time in seconds and
 * `x-warden-signature` is `sha256=` + hex HMAC-SHA256 of `<timestamp>.<body>` with the secret;
 * a receiver recomputes it and refuses stale timestamps (replays).
 */
export function webhookSink(config: Extract<SinkConfig, { type: 'webhook' }>): AlertSink {
  const url = resolveSecret(config.url, 'monitoring.alerts.sinks[webhook].url');
  const secret = resolveSecret(config.secret, 'monitoring.alerts.sinks[webhook].secret');
  return {
    name: config.name ?? 'webhook',
    deliver(alert, signal) {
      const body = JSON.stringify(alert);
      return post(url, body, webhookHeaders(secret, body), signal);
    },
  };
}

/** Email over SMTP (nodemailer): STARTTLS when the server offers it, or TLS from the start with `secure`. */
export function emailSink(config: Extract<SinkConfig, { type: 'email' }>): AlertSink {
  const password = config.password
    ? resolveSecret(config.password, 'monitoring.alerts.sinks[email].password')
    : undefined;
  const transport = createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure,
    ...(config.user ? { auth: { user: config.user, pass: password ?? '' } } : {}),
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 15_000,
  });
  return {
    name: config.name ?? 'email',
    async deliver(alert, signal) {
      // A delivery given up before it starts sends nothing (the others check before they fetch).
      if (signal.aborted) throw new Error('email delivery was aborted before it started');
      const sending = transport.sendMail({
        from: config.from,
        to: config.to,
        subject: `[warden ${alert.severity}] ${alert.title}`,
        text: `${lines(alert)}\n\n${JSON.stringify(alert.details ?? {}, null, 2)}\n`,
      });
      await new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(new Error('email delivery timed out'));
        signal.addEventListener('abort', onAbort, { once: true });
        sending.then(
          () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          },
          (error: unknown) => {
            signal.removeEventListener('abort', onAbort);
            reject(error);
          },
        );
      });
    },
    async close() {
      transport.close();
    },
  };
}

export function createSink(config: SinkConfig): AlertSink {
  switch (config.type) {
    case 'slack':
      return slackSink(config);
    case 'pagerduty':
      return pagerDutySink(config);
    case 'webhook':
      return webhookSink(config);
    case 'email':
      return emailSink(config);
  }
}
