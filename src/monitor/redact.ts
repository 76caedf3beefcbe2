import { redactSecrets } from '../secrets/redact-secrets.js';

/**
 * Value-based redaction for logs and alerts: pino's `redact` paths catch known fields, this catches
 * secrets wherever they sit in an action's params (a token in a URL, a key in a shell command).
 */

export const REDACTED = '[REDACTED]';

/** Field names whose values are always secrets, whatever they look like. */
const SECRET_KEY =
  /^(password|passwd|pwd|passphrase|token|access[_-]?token|refresh[_-]?token|id[_-]?token|secret|client[_-]?secret|api[_-]?key|apikey|x[_-]api[_-]key|private[_-]?key|authorization|auth|cookie|set-cookie|session[_-]?token|credentials?)$/i;

/**
 * Secret-looking substrings: OpenAI/Anthropic-style `sk-…` keys, AWS access key ids, bearer and
 * basic credentials, JWTs, GitHub and Slack tokens, PEM private keys, and `password=…` pairs.
 */
const SECRET_VALUE =
  /\bsk-[A-Za-z0-9_-]{16,}|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}|\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}|\bgh[pousr]_[A-Za-z0-9]{30,}|\bxox[abposr]-[A-Za-z0-9-]{10,}|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)|\b(?:password|passwd|pwd|token|secret|api[_-]?key)=[^\s&;"']+/gi;

const MAX_DEPTH = 8;
const MAX_STRING = 2048;

/**
 * Replaces secret-looking parts of a string: first what the shared secret scanner finds (the
 * maintained rule set, `[REDACTED:<rule>:<hash>]`), then the credential shapes below.
 */
export function redactString(raw: string, max = MAX_STRING): string {
  const value = redactSecrets(raw);
  SECRET_VALUE.lastIndex = 0;
  if (!SECRET_VALUE.test(value))
    return value.length > max ? `${value.slice(0, max)}… (${value.length} chars)` : value;
  SECRET_VALUE.lastIndex = 0;
  const out = value.replace(SECRET_VALUE, (match) => {
    const eq = match.indexOf('=');
    // Keep the name of a `password=…` pair so the reader knows what was there.
    return eq > 0 && eq < 20 && !match.startsWith('ey') ? `${match.slice(0, eq + 1)}${REDACTED}` : REDACTED;
  });
  return out.length > max ? `${out.slice(0, max)}… (${out.length} chars)` : out;
}

/**
 * A copy of `value` with secret fields and secret-looking strings replaced by `[REDACTED]`, long
 * strings shortened and deep nesting cut. Never throws; never returns the input object itself.
 *
 * @example
 * redact({ headers: { authorization: 'Bearer abc.def' }, url: 'https://x/?token=t0k' })
 * // → { headers: { authorization: '[REDACTED]' }, url: 'https://x/?token=[REDACTED]' }
 */
export function redact(value: unknown, maxString = MAX_STRING, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value, maxString);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) return '[…]';
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redact(v, maxString, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] =
      SECRET_KEY.test(key) && v !== null && v !== undefined && v !== ''
        ? REDACTED
        : redact(v, maxString, depth + 1);
  }
  return out;
}

/**
 * pino `redact` paths for fields Warden's log lines carry. Params are already passed through
 * {@link redact} (which blanks every secret-named field at any depth), so these are the second
 * line for the common credential carriers; `monitoring.logs.redact` adds more.
 */
export const REDACT_PATHS: readonly string[] = [
  'action.params.headers.authorization',
  'action.params.headers.cookie',
  'action.params.password',
  'action.params.token',
];
