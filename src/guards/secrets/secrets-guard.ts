import type { Action } from '../../contract/action.js';
import { compileHostPatterns, type NameMatcher } from '../../lib/glob.js';
import type { SecretsPolicy } from '../../policy/sections/secrets.js';
import { type SecretHit, type SecretScanner, secretScanner } from '../../secrets/detect.js';
import { REFERENCE, referencesIn } from '../../secrets/references.js';
import { reviewText } from '../../secrets/review.js';
import { compileServices, SECRET_SERVICES } from '../../secrets/services.js';
import type { Guard, GuardFinding } from '../guard.js';

/** The compiled `secrets` section, as the guard uses it. */
export interface CompiledSecrets {
  config: SecretsPolicy;
  services: Map<string, NameMatcher>;
  referenceHosts: Map<string, NameMatcher | undefined>;
  scanner: SecretScanner;
}

export function compileSecrets(config: SecretsPolicy, scanner = secretScanner()): CompiledSecrets {
  const referenceHosts = new Map<string, NameMatcher | undefined>();
  for (const [name, ref] of Object.entries(config.references))
    referenceHosts.set(name, ref.hosts ? compileHostPatterns(ref.hosts) : undefined);
  return { config, services: compileServices(config.services), referenceHosts, scanner };
}

/** Rules whose secret names its own host (`postgres://user:pw@db.internal/…`): at home on that host. */
const CARRIES_HOST = new Set(['basicauth', 'database-connection-string']);

/**
 * The secrets guard, for every action with a destination (`params.url`): in order, a secret
 * reference (`{{secret:NAME}}`) must be one the policy knows and, when the reference names
 * hosts, go to one of them (`secrets.unknown-reference`, `secrets.reference-host`); then the
 * URL, the headers and the body are scanned (secretlint's rules, see `src/secrets/detect.ts`)
 * and a secret going to a host that is not its own service (an AWS key to `api.example.com`;
 * `*.amazonaws.com` is its home) is `secrets.exfiltration`: denied, or raised to critical with
 * `secrets.outbound: ask`. A secret with no service of its own (a private key, a JWT, a
 * random-looking value given to a `token=`) is at home nowhere.
 *
 * References are resolved only by the executors (`src/execute/secret-references.ts`), so what
 * this guard, the audit and the decision see is the reference, never the value.
 */
export function createSecretsGuard(secrets: CompiledSecrets): Guard {
  const { config } = secrets;
  return {
    name: 'secrets',
    appliesTo: () => true,
    inspect: function secretsGuard(action: Action): GuardFinding[] {
      if (action.type === 'llm.output') return reviewFindings(secrets, String(action.params.text ?? ''));
      const rawUrl = action.params.url;
      if (typeof rawUrl !== 'string') return [];
      let host: string;
      try {
        host = new URL(rawUrl).hostname.toLowerCase().replace(/^\[|\]$/g, '');
      } catch {
        return []; // The HTTP guard refuses a bad URL; nothing is sent.
      }
      const carried = [rawUrl, action.params.headers, action.params.body, action.params.query];
      for (const name of referencesIn(carried)) {
        if (!secrets.referenceHosts.has(name) && Object.keys(config.references).length > 0)
          return [
            deny('secrets.unknown-reference', `\`{{secret:${name}}}\` is not in \`secrets.references\``),
          ];
        const hosts = secrets.referenceHosts.get(name);
        if (hosts && !hosts(host))
          return [
            deny(
              'secrets.reference-host',
              `\`{{secret:${name}}}\` may only be sent to ${config.references[name]?.hosts?.join(', ')}, not \`${host}\``,
            ),
          ];
      }
      if (config.outbound === 'off') return [];
      for (const [where, value] of parts(action)) {
        for (const hit of secrets.scanner.scan(value)) {
          if (atHome(secrets, hit, host)) continue;
          const message = `${where} carries a secret (${hit.rule}: ${hit.detail}) to \`${host}\`, which is not its own service; send it only to ${home(secrets, hit)}`;
          return config.outbound === 'deny'
            ? [deny('secrets.exfiltration', message)]
            : [{ effect: 'raise', risk: 'critical', code: 'secrets.exfiltration', message }];
        }
      }
      return [];
    },
  };
}

/**
 * Output review of an `llm.output`: a kind the policy denies ends it (`output.<kind>`); one it
 * asks about raises the risk to high (`output.review`), so the default rules ask; redacted kinds
 * are named (`output.redacted`) and the executor returns the redacted text.
 */
function reviewFindings(secrets: CompiledSecrets, text: string): GuardFinding[] {
  const review = reviewText(text, secrets.config.review, secrets.scanner);
  const kinds = (effect: string) => [
    ...new Set(review.findings.filter((f) => f.effect === effect).map((f) => `${f.kind} (${f.rule})`)),
  ];
  if (review.effect === 'deny') {
    const first = review.findings.find((f) => f.effect === 'deny');
    return [
      deny(
        `output.${first?.kind ?? 'secret'}`,
        `the output holds ${kinds('deny').join(', ')}, which the policy denies (\`secrets.review\`)`,
      ),
    ];
  }
  const out: GuardFinding[] = [];
  if (review.effect === 'ask')
    out.push({
      effect: 'raise',
      risk: 'high',
      code: 'output.review',
      message: `the output holds ${kinds('ask').join(', ')}; a person must review it (\`secrets.review\`)`,
    });
  const redacted = kinds('redact');
  if (redacted.length > 0)
    out.push({
      effect: 'raise',
      risk: 'low',
      code: 'output.redacted',
      message: `the output holds ${redacted.join(', ')}; the executor returns it redacted`,
    });
  return out;
}

/** The action's outbound parts as text: the URL, each header value, the body (JSON if not a string). */
function* parts(action: Action): Generator<[string, string]> {
  yield ['the URL', String(action.params.url)];
  const headers = action.params.headers;
  if (headers && typeof headers === 'object')
    for (const [name, value] of Object.entries(headers))
      if (value !== undefined && value !== null) yield [`header \`${name}\``, `${name}: ${String(value)}`];
  for (const key of ['body', 'query', 'json', 'data', 'form']) {
    const body = action.params[key];
    if (body === undefined || body === null) continue;
    yield ['the body', typeof body === 'string' ? body : JSON.stringify(body)];
  }
}

function atHome(secrets: CompiledSecrets, hit: SecretHit, host: string): boolean {
  if (REFERENCE.test(hit.value)) return true;
  const service = secrets.services.get(hit.rule);
  if (service?.(host)) return true;
  if (CARRIES_HOST.has(hit.rule)) {
    const named = /@([A-Za-z0-9.-]+)/.exec(hit.value)?.[1]?.toLowerCase();
    return named !== undefined && named === host;
  }
  return false;
}

function home(secrets: CompiledSecrets, hit: SecretHit): string {
  const hosts = [...(SECRET_SERVICES[hit.rule] ?? []), ...(secrets.config.services[hit.rule] ?? [])];
  return hosts.length > 0 ? hosts.join(', ') : 'Warden’s executors, as a `{{secret:NAME}}` reference';
}

function deny(code: string, message: string): GuardFinding {
  return { effect: 'deny', code, message };
}
