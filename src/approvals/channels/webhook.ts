import { webhookHeaders } from '../../lib/webhook-signature.js';
import type { ApprovalRecord } from '../../store/store.js';
import type { ApprovalChannel } from '../approval-channel.js';

export {
  signWebhook as webhookSignature,
  verifyWebhook,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
} from '../../lib/webhook-signature.js';

/**
 * A generic signed webhook: POSTs `{ event, approval }` as JSON for each new request
 * (`approval.requested`) and each outcome (`approval.decided`), signed like every Warden webhook
 * (`lib/webhook-signature.ts`: `X-Warden-Signature: sha256=…` over `{X-Warden-Timestamp}.{body}`). The receiver votes back through the
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
    const res = await fetch(this.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-warden-event': event,
        ...webhookHeaders(this.secret, body),
      },
      body,
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) throw new Error(`webhook ${this.url} answered ${res.status}`);
  }
}
