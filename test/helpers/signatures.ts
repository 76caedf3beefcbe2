import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Checks a timestamped HMAC signature as a receiver would, from the documented scheme rather than
 * Warden's own helper: `{prefix}` + hex HMAC-SHA256 of `{x-warden-timestamp}.{body}`, with a
 * timestamp no older than a minute. Every Warden webhook signs with `sha256=`.
 */
export function timestampedHmacVerifier(prefix: string) {
  return (message: { headers: Record<string, unknown>; text: string }, secret: string): boolean => {
    const ts = String(message.headers['x-warden-timestamp']);
    if (!/^\d+$/.test(ts) || Math.abs(Number(ts) - Date.now() / 1000) > 60) return false;
    const expected = Buffer.from(
      `${prefix}${createHmac('sha256', secret).update(`${ts}.${message.text}`).digest('hex')}`,
    );
    const got = Buffer.from(String(message.headers['x-warden-signature']));
    return got.length === expected.length && timingSafeEqual(got, expected);
  };
}
