import { type SecretScanner, secretScanner } from './detect.js';
import { replaceSpans } from './redact-text.js';

const MAX_DEPTH = 16;

/**
 * A copy of `value` with every secret the scanner finds in its strings replaced by a marker
 * (`[REDACTED:<rule>:<hash>]`); object keys are kept. Used where data leaves Warden: audit
 * payloads, logs, alerts, executor errors, incident reports. Returns the input itself when
 * there is nothing to redact (the common case allocates nothing).
 *
 * @example
 * redactSecrets({ body: 'aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCY0123456789' })
 * // → { body: '[REDACTED:aws:3b1c…]' }
 */
export function redactSecrets<T>(value: T, scanner: SecretScanner = secretScanner(), depth = 0): T {
  if (typeof value === 'string') {
    const hits = scanner.find(value);
    return (hits.length === 0 ? value : replaceSpans(value, hits)) as T;
  }
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return value;
  // Loops that copy only once something changed: every audit record passes here before it is hashed.
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v: unknown = value[i];
      const r = redactSecrets(v, scanner, depth + 1);
      if (r !== v) {
        out ??= value.slice();
        out[i] = r;
      }
    }
    return (out ?? value) as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const record = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    const v = record[key];
    const r = redactSecrets(v, scanner, depth + 1);
    if (r !== v) {
      out ??= { ...record };
      out[key] = r;
    }
  }
  return (out ?? value) as T;
}

/** Whether a value holds a secret anywhere in its strings. */
export function holdsSecret(value: unknown, scanner: SecretScanner = secretScanner(), depth = 0): boolean {
  if (typeof value === 'string') return scanner.find(value).length > 0;
  if (value === null || typeof value !== 'object' || depth >= MAX_DEPTH) return false;
  return Object.values(value).some((v) => holdsSecret(v, scanner, depth + 1));
}
