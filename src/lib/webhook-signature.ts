import { createHmac } from 'node:crypto';
import { equalSecrets } from './equal-secrets.js';

/** The header carrying the signature, on every webhook Warden sends (approvals, alerts, checkpoints). */
export const WEBHOOK_SIGNATURE_HEADER = 'x-warden-signature';
/** The header carrying the Unix time in seconds the signature covers. */
export const WEBHOOK_TIMESTAMP_HEADER = 'x-warden-timestamp';

/**
 * The one signature of Warden's webhooks: `sha256=` + hex HMAC-SHA256 of `{timestamp}.{body}`
 * with the shared secret. The receiver recomputes it over the raw body.
 */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** The timestamp and signature headers for `body`, signed now (or at `nowMs`). */
export function webhookHeaders(secret: string, body: string, nowMs = Date.now()): Record<string, string> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    [WEBHOOK_TIMESTAMP_HEADER]: timestamp,
    [WEBHOOK_SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
  };
}

/**
 * For receivers: true when `signature` is right for this body and the timestamp is within
 * `maxAgeS` (default 300) of now. Compares in constant time and rejects old timestamps, or a
 * captured delivery could be replayed.
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
  return equalSecrets(signature, signWebhook(secret, timestamp, body));
}
