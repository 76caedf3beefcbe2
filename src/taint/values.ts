import { hash } from 'node:crypto';
import { posix } from 'node:path';

/**
 * The values argument provenance compares, normalised so that a value spelled differently is
 * still the same value: hosts (lowercase, IDN to punycode, no trailing dot, no `www.`), URLs
 * (scheme and host lowercase, no default port, no fragment, no trailing `/`), paths (`.`/`..`
 * and repeated `/` resolved), e-mail addresses (lowercase, no `+tag`), IBANs (uppercase, no
 * spaces or dashes), phone numbers (digits only, the last nine), and tokens (lowercase words).
 *
 * Each value becomes a key `kind:hash` (the first 16 hex digits of SHA-256 of the normalised
 * value), so a session keeps what its content held without keeping the content.
 *
 * INVARIANT: a document and a parameter go through the same extraction, so a value the document
 * holds and the same value in a parameter give the same key.
 */

export type ValueKind = 'host' | 'url' | 'path' | 'email' | 'iban' | 'phone' | 'token';

// Linear-time patterns only: a pattern that can start at many positions has bounded repetitions,
// so content an attacker writes (a megabyte of `a.a.a.`) costs time linear in its length.
const URL_RE = /\b(?:https?|ftp|wss?):\/\/[^\s"'<>()[\]{}`\\]{1,2048}/gi;
const EMAIL_RE = /[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}(?:\.[a-z0-9-]{1,63}){1,8}/gi;
// Groups of four (as IBANs are printed), the last one shorter: a following word is never taken in.
const IBAN_RE = /\b[a-z]{2}\d{2}(?:[ -]?[a-z0-9]{4}){2,7}(?:[ -]?[a-z0-9]{1,3})?\b/gi;
const PHONE_RE = /(?:\+|\b)\d[\d ().-]{6,22}\d\b/g;
const PATH_RE = /(?:^|[\s"'`(=:])((?:~|\.{1,2})?\/[^\s"'`<>|;,)(]{1,1024})/g;
const HOST_RE = /\b(?:[a-z0-9](?:[a-z0-9-]{0,62})\.)+[a-z]{2,24}\b/gi;
const TOKEN_SPLIT = /[\s"'`<>()[\]{},;]+/;

/** Normalises a host name; undefined when it is not one. */
export function normalHost(host: string): string | undefined {
  let h = host.trim().toLowerCase();
  if (h.endsWith('.')) h = h.slice(0, -1);
  if (h === '') return undefined;
  try {
    h = new URL(`http://${h}/`).hostname;
  } catch {
    return undefined;
  }
  return h.startsWith('www.') ? h.slice(4) : h;
}

/** Normalises a URL to what names the same resource; undefined when it does not parse. */
export function normalUrl(raw: string): { url: string; host: string } | undefined {
  let u: URL;
  try {
    u = new URL(raw.trim().replace(/[.,;:!?]+$/, ''));
  } catch {
    return undefined;
  }
  const host = normalHost(u.hostname);
  if (!host) return undefined;
  u.hash = '';
  let path = u.pathname;
  try {
    path = decodeURI(path);
  } catch {
    // keep it encoded
  }
  path = posix.normalize(path).replace(/\/+$/, '');
  const port = u.port ? `:${u.port}` : '';
  return { url: `${u.protocol}//${host}${port}${path}${u.search}`, host };
}

export function normalPath(raw: string): string | undefined {
  const p = raw.trim().replace(/[.,:!?]+$/, '');
  if (p.length < 2) return undefined;
  const n = posix.normalize(p).replace(/\/+$/, '');
  return n.length < 2 ? undefined : n;
}

export function normalEmail(raw: string): string {
  const [local = '', domain = ''] = raw.toLowerCase().split('@');
  return `${local.replace(/\+.*$/, '')}@${normalHost(domain) ?? domain}`;
}

/** An IBAN in its compact form, when the text is one (ISO 13616: length and mod-97 checksum). */
export function normalIban(raw: string): string | undefined {
  const c = raw.replace(/[\s-]/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/.test(c)) return undefined;
  let rest = 0;
  for (const ch of c.slice(4) + c.slice(0, 4)) {
    const n = ch <= '9' ? ch.charCodeAt(0) - 48 : ch.charCodeAt(0) - 55;
    rest = (n > 9 ? rest * 100 + n : rest * 10 + n) % 97;
  }
  return rest === 1 ? c : undefined;
}

export function normalPhone(raw: string): string | undefined {
  const digits = raw.replace(/\D/g, '');
  if (digits.length < 9 || digits.length > 15) return undefined;
  return digits.slice(-9);
}

export function keyOf(kind: ValueKind, value: string): string {
  return `${kind}:${hash('sha256', value).slice(0, 16)}`;
}

/** The keys of every value in a document (the content of an observation). */
export function keysOfText(text: string, into: Set<string> = new Set()): Set<string> {
  for (const m of matches(URL_RE, text)) {
    const n = normalUrl(m[0]);
    if (!n) continue;
    into.add(keyOf('url', n.url));
    into.add(keyOf('host', n.host));
  }
  for (const m of matches(EMAIL_RE, text)) {
    const e = normalEmail(m[0]);
    into.add(keyOf('email', e));
    const host = normalHost(e.slice(e.indexOf('@') + 1));
    if (host) into.add(keyOf('host', host));
  }
  for (const m of matches(HOST_RE, text)) {
    const h = normalHost(m[0]);
    if (h && /[a-z]/.test(h.slice(h.lastIndexOf('.') + 1))) into.add(keyOf('host', h));
  }
  for (const m of matches(IBAN_RE, text)) {
    const i = normalIban(m[0]);
    if (i) into.add(keyOf('iban', i));
  }
  for (const m of matches(PHONE_RE, text)) {
    const p = normalPhone(m[0]);
    if (p) into.add(keyOf('phone', p));
  }
  for (const m of matches(PATH_RE, text)) {
    const p = normalPath(m[1] as string);
    if (p) into.add(keyOf('path', p));
  }
  for (const word of text.split(TOKEN_SPLIT)) {
    const t = tokenOf(word);
    if (t) into.add(keyOf('token', t));
  }
  return into;
}

/**
 * The matches of global `re` in `text`, as `matchAll` gives them, without the copy of the
 * pattern `matchAll` makes on every call (a compiled-pattern setup per pattern per document).
 */
function* matches(re: RegExp, text: string): Generator<RegExpExecArray> {
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0] === '') re.lastIndex++; // as matchAll does: an empty match moves on
    const at = re.lastIndex;
    yield m;
    re.lastIndex = at; // the caller may have used `re` meanwhile
  }
}

/**
 * The keys of one parameter value: the values it holds (as for a document) and the value as a
 * whole, read as the kind its shape says (an IBAN, a phone number, a host, a path, a token).
 */
export function keysOfParam(value: unknown): readonly string[] {
  if (typeof value === 'number') return keysOfParam(String(value));
  if (Array.isArray(value)) return value.flatMap((v) => keysOfParam(v));
  if (typeof value !== 'string' || value.length === 0) return [];
  // Agents repeat their values (the same recipient, the same endpoint): keys are worked out once.
  let keys = PARAM_MEMO.get(value);
  if (keys === undefined) {
    keys = paramKeys(value);
    if (PARAM_MEMO.size >= PARAM_MEMO_LIMIT) PARAM_MEMO.clear();
    PARAM_MEMO.set(value, keys);
  }
  return keys;
}

const PARAM_MEMO = new Map<string, readonly string[]>();
const PARAM_MEMO_LIMIT = 50_000;

function paramKeys(value: string): readonly string[] {
  const keys = keysOfText(value);
  const whole = value.trim();
  const iban = normalIban(whole);
  if (iban) keys.add(keyOf('iban', iban));
  const phone = /^[+\d][\d ().-]+$/.test(whole) ? normalPhone(whole) : undefined;
  if (phone) keys.add(keyOf('phone', phone));
  if (whole.startsWith('/') || whole.startsWith('~/')) {
    const p = normalPath(whole);
    if (p) keys.add(keyOf('path', p));
  } else if (!/\s/.test(whole) && whole.includes('.')) {
    const h = normalHost(whole);
    if (h) keys.add(keyOf('host', h));
  }
  // A free-text value (a command, a sentence) is judged by the values it holds, not its words:
  // otherwise every common word the document shares with it would count.
  if (/\s/.test(whole)) for (const k of keys) if (k.startsWith('token:')) keys.delete(k);
  return Object.freeze([...keys]);
}

/** Host keys of a URL, for "a host not seen before in the session". */
export function hostKeyOfUrl(raw: unknown): string | undefined {
  if (typeof raw !== 'string') return undefined;
  let key = HOST_MEMO.get(raw);
  if (key === undefined) {
    const n = normalUrl(raw);
    key = n ? keyOf('host', n.host) : '';
    if (HOST_MEMO.size >= PARAM_MEMO_LIMIT) HOST_MEMO.clear();
    HOST_MEMO.set(raw, key);
  }
  return key === '' ? undefined : key;
}

const HOST_MEMO = new Map<string, string>();

function tokenOf(word: string): string | undefined {
  const t = word.replace(/^[^\p{L}\p{N}~/]+|[^\p{L}\p{N}]+$/gu, '').toLowerCase();
  return t.length >= 4 && t.length <= 200 ? t : undefined;
}
