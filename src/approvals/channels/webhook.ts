import { createHmac } from 'node:crypto';
import { equalSecrets } from '../../lib/equal-secrets.js';
import type { ApprovalRecord } from '../../store/store.js';
import type { ApprovalChannel } from '../approval-channel.js';

export const WEBHOOK_SIGNATURE_HEADER = 'x-warden-signature';
export const WEBHOOK_TIMESTAMP_HEADER = 'x-warden-timestamp';

/** `v1=` + hex HMAC-SHA256 of `{timestamp}.{body}`: the receiver recomputes it with the shared secret. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * For receivers: true when `signature` is right for this body and the timestamp is within
 * `maxAgeS` (default 300) of now. Compare in constant time, and reject old timestamps, or a
 * captured delivery can be replayed.
 *
 * @example
 * verifyWebhook(process.env.WARDEN_WEBHOOK_SECRET, req.headers['x-warden-timestamp'], rawBody, req.headers['x-warden-signature'])
 */
export function verifyWebhook(
  secret: string,
  timestamp: string | undefined,
  body: string,
  signature: string | undefined,
  maxAgeS = 300,
  nowS = Date.now() / 1000,
): boolean {
  if (!timestamp || !/^\d{1,12}$/.test(timestamp) || Math.abs(nowS - Number(timestamp)) > maxAgeS)
    return false;
  return equalSecrets(signature, webhookSignature(secret, timestamp, body));
}

/**
 * A generic signed webhook: POSTs `{ event, approval }` as JSON for each new request
 * (`approval.requested`) and each outcome (`approval.decided`), signed with HMAC-SHA256 in
 * `X-Warden-Signature` over `{X-Warden-Timestamp}.{body}`. The receiver votes back through the
 * HTTP API with its own approver token.
 */
export class WebhookChannel implements ApprovalChannel {
  readonly name: string;
  constructor(
    private readonly url: string,
    private readonly secret: string,
    name = 'webhook',
    private readonly timeoutMs = 5000,
  ) {
    this.name = name;
  }

  notify(request: ApprovalRecord): Promise<void> {
    return this.post('approval.requested', request);
  }

  decided(request: ApprovalRecord): Promise<void> {
    return this.post('approval.decided', request);
  }

  private async post(event: string, approval: ApprovalRecord): Promise<void> {
    const body = JSON.stringify({ event, approval });
    const ts = String(Math.floor(Date.now() / 1000));
    const res = await fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-warden-event': event,
        [WEBHOOK_TIMESTAMP_HEADER]: ts,
        [WEBHOOK_SIGNATURE_HEADER]: webhookSignature(this.secret, ts, body),
      },
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) throw new Error(`webhook ${this.url} answered ${res.status}`);
  }
}
