import { isIP } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';
import type { UrlCheckCode } from '../../contract/errors.js';
import type { Risk } from '../../contract/risk.js';
import { compileHostPatterns, type NameMatcher } from '../../lib/glob.js';
import { compileLinearRegex, LINEAR_REGEX_CASE_INSENSITIVE } from '../../lib/linear-regex.js';
import { classifyAddress } from '../../net/addresses.js';
import type { HttpPolicy } from '../../policy/sections/http.js';
import type { GuardFinding } from '../guard.js';

/** The `http` section compiled once, at load: matchers, normalised words, compiled JSON Schemas. */
export interface CompiledHttp {
  readonly config: HttpPolicy;
  readonly schemes: ReadonlySet<string>;
  readonly methods: ReadonlySet<string>;
  readonly hostAllowed: NameMatcher;
  readonly hostDenied: NameMatcher;
  readonly sensitive: readonly { word: string; folded: string }[];
  readonly endpoints: readonly CompiledEndpoint[];
  readonly timeoutMs: number;
}

interface CompiledEndpoint {
  pattern: string;
  matches: (urlWithoutQuery: string, method: string) => boolean;
  validate?: ValidateFunction;
  risk?: Risk;
}

const escapeRegex = (s: string) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&');

/** Lowercase, with `-` and `_` dropped, so `delete_account`, `Delete-Account` and `deleteaccount` meet. */
const fold = (s: string) => s.toLowerCase().replace(/[-_]/g, '');

export function compileHttp(config: HttpPolicy, timeoutMs: number): CompiledHttp {
  const ajv = new Ajv({ strict: false, allErrors: false });
  return {
    config,
    timeoutMs,
    schemes: new Set(config.schemes.map((s) => `${s}:`)),
    methods: new Set(config.methods),
    hostAllowed: compileHostPatterns(config.hosts.allow),
    hostDenied: compileHostPatterns(config.hosts.deny),
    sensitive: config.sensitive.map((word) => ({ word, folded: fold(word) })),
    endpoints: config.endpoints.map((e) => {
      const re = compileLinearRegex(
        `^${e.url.split('*').map(escapeRegex).join('.*')}$`,
        LINEAR_REGEX_CASE_INSENSITIVE,
      );
      const methods = e.methods ? new Set(e.methods.map((m) => m.toUpperCase())) : undefined;
      return {
        pattern: e.url,
        matches: (url, method) => re.test(url) && (!methods || methods.has(method)),
        ...(e.schema ? { validate: ajv.compile(e.schema) } : {}),
        ...(e.risk ? { risk: e.risk } : {}),
      };
    }),
  };
}

// Query parameter names that carry credentials (folded: lowercase, no `-`/`_`).
const SECRET_PARAMS = new Set([
  'apikey',
  'apisecret',
  'accesstoken',
  'accesskey',
  'authtoken',
  'auth',
  'authorization',
  'bearer',
  'token',
  'idtoken',
  'refreshtoken',
  'sessiontoken',
  'secret',
  'clientsecret',
  'password',
  'passwd',
  'pwd',
  'privatekey',
  'xamzsignature',
  'xamzcredential',
  'xamzsecuritytoken',
  'signature',
  'sig',
]);

// Credential formats recognised anywhere in a URL.
const SECRET_VALUES: ReadonlyArray<[string, RegExp]> = [
  ['an AWS access key id', /\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b/],
  ['an OpenAI/Anthropic-style secret key', /\bsk-(?:[A-Za-z0-9_-]{20,})/],
  ['a Stripe secret key', /\b[rs]k_(?:live|test)_[0-9A-Za-z]{10,}/],
  ['a GitHub token', /\b(?:gh[pousr]_[0-9A-Za-z]{30,}|github_pat_[0-9A-Za-z_]{30,})/],
  ['a Slack token', /\bxox[abposr]-[0-9A-Za-z-]{10,}/],
  ['a Google API key', /\bAIza[0-9A-Za-z_-]{35}\b/],
  ['a JSON Web Token', /\beyJ[0-9A-Za-z_-]{8,}\.eyJ[0-9A-Za-z_-]{8,}\.[0-9A-Za-z_-]*/],
];

/** A finding of the URL checks: its code is one the HTTP executor can also refuse with. */
export type UrlFinding = GuardFinding & { code: UrlCheckCode };

const deny = (code: UrlCheckCode, message: string): UrlFinding => ({ effect: 'deny', code, message });

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The IP address a WHATWG-normalised host names, or undefined for a DNS name. */
export function literalAddress(hostname: string): string | undefined {
  const bare = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) ? bare : undefined;
}

export interface UrlInspection {
  url?: URL;
  findings: UrlFinding[];
}

/**
 * The checks that need no network: the URL as WHATWG parses it (which also normalises every
 * spelling of an IP address: `2130706433`, `0177.0.0.1`, `0x7f.1`, `127.1`, `[::ffff:127.0.0.1]`),
 * scheme, credentials, global host lists, literal internal addresses, secrets and sensitive words.
 * DNS names are vetted by the executor when it connects. Also applied to every redirect hop.
 */
export function inspectUrl(raw: string, http: CompiledHttp): UrlInspection {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return {
      findings: [
        deny(
          'http.invalid-url',
          `\`${raw}\` is not a valid absolute URL; send a full URL such as https://host/path`,
        ),
      ],
    };
  }
  const findings: UrlFinding[] = [];
  if (!http.schemes.has(url.protocol)) {
    findings.push(
      deny(
        'http.scheme-not-allowed',
        `scheme \`${url.protocol.slice(0, -1)}\` is not allowed (http.schemes: ${http.config.schemes.join(', ')})`,
      ),
    );
    return { url, findings };
  }
  if (url.username !== '' || url.password !== '') {
    findings.push(
      deny(
        'http.userinfo',
        `the URL carries credentials before the host (\`${url.username}@…\`); put credentials in an Authorization header, and check which host is really meant`,
      ),
    );
  }
  const host = url.hostname;
  const address = literalAddress(host);
  if (address !== undefined) {
    const verdict = classifyAddress(address);
    if (verdict.blocked)
      findings.push(
        deny(
          'http.ssrf-blocked',
          `\`${raw}\` addresses \`${address}\`, which is in a blocked range (${verdict.range}); requests to internal addresses are refused`,
        ),
      );
  }
  if (http.hostDenied(host))
    findings.push(deny('http.host-denied', `host \`${host}\` is denied by \`http.hosts.deny\``));
  else if (!http.hostAllowed(host))
    findings.push(
      deny(
        'http.host-not-allowed',
        `host \`${host}\` is not in \`http.hosts.allow\` (${http.config.hosts.allow.join(', ')})`,
      ),
    );
  const secret = findSecret(url);
  if (secret) {
    const message = `the URL carries ${secret}; send credentials in a header, not the URL (URLs end up in logs, proxies and referrers)`;
    findings.push(
      http.config.secretsInUrl === 'deny'
        ? deny('http.secret-in-url', message)
        : { effect: 'raise', risk: 'critical', code: 'http.secret-in-url', message },
    );
  }
  const word = sensitiveWord(url, http);
  if (word)
    findings.push({
      effect: 'raise',
      risk: http.config.sensitiveRisk,
      code: 'http.sensitive-endpoint',
      message: `\`${url.origin}${url.pathname}\` matches the sensitive pattern \`${word}\`; it needs approval`,
    });
  return { url, findings };
}

function findSecret(url: URL): string | undefined {
  // The fragment too: implicit OAuth flows put `#access_token=` there.
  for (const params of [url.searchParams, new URLSearchParams(url.hash.slice(1))]) {
    for (const [name, value] of params) {
      if (SECRET_PARAMS.has(name.toLowerCase().replace(/[-_]/g, '')) && value !== '')
        return `a credential in URL parameter \`${name}\``;
    }
  }
  const text = safeDecode(url.pathname + url.search + url.hash);
  for (const [what, re] of SECRET_VALUES) if (re.test(text)) return what;
  return undefined;
}

function sensitiveWord(url: URL, http: CompiledHttp): string | undefined {
  if (http.sensitive.length === 0) return undefined;
  // Decoded, so `/ad%6din` is `/admin`; host included, as in the guide (`pattern in endpoint`).
  const haystack = fold(safeDecode(url.hostname + url.pathname + url.search));
  for (const s of http.sensitive) if (haystack.includes(s.folded)) return s.word;
  return undefined;
}

/** The endpoint entries that apply to this URL and method. */
export function endpointsFor(url: URL, method: string, http: CompiledHttp): CompiledEndpoint[] {
  if (http.endpoints.length === 0) return [];
  const target = `${url.origin}${url.pathname}`;
  return http.endpoints.filter((e) => e.matches(target, method));
}
