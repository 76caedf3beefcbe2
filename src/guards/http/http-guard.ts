import type { Action } from '../../contract/action.js';
import type { Guard, GuardFinding } from '../guard.js';
import { type CompiledHttp, endpointsFor, inspectUrl } from './url-checks.js';

/** Headers the executor sets itself; an agent overriding them could aim at another virtual host. */
const FORBIDDEN_HEADERS = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'upgrade']);

const BODYLESS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The HTTP guard (`http.request`): the URL checks of `inspectUrl`, forbidden headers, and the
 * request body against the JSON Schema of the endpoint it goes to. It does no I/O: names are
 * resolved and vetted by the executor, at connect time, with the address it then uses.
 *
 * @example
 * const guard = createHttpGuard(compileHttp(HttpPolicySchema.parse({}), 10_000));
 * await guard.inspect({ type: 'http.request', params: { url: 'http://0x7f.1/' }, … }, new Map());
 * // → [{ effect: 'deny', code: 'http.ssrf-blocked', … }]
 */
export function createHttpGuard(http: CompiledHttp): Guard {
  return {
    name: 'http',
    appliesTo: (type) => type === 'http.request',
    inspect: function httpGuard(action: Action): GuardFinding[] {
      const params = action.params;
      const inspection = inspectUrl(String(params.url), http);
      const { url } = inspection;
      // Widened: the guard adds findings of its own beyond the URL checks.
      const findings: GuardFinding[] = inspection.findings;
      if (!url || findings.some((f) => f.effect === 'deny')) return findings;
      const method = String(params.method ?? 'GET').toUpperCase();
      if (!http.methods.has(method))
        return [
          {
            effect: 'deny',
            code: 'http.method-not-allowed',
            message: `method \`${method}\` is not allowed (http.methods: ${http.config.methods.join(', ')})`,
          },
        ];
      const headers = (params.headers ?? {}) as Record<string, string>;
      for (const name of Object.keys(headers)) {
        if (FORBIDDEN_HEADERS.has(name.toLowerCase()))
          return [
            {
              effect: 'deny',
              code: 'http.header-forbidden',
              message: `header \`${name}\` is set by Warden's executor and cannot be chosen by the agent`,
            },
          ];
      }
      for (const endpoint of endpointsFor(url, method, http)) {
        if (endpoint.risk)
          findings.push({
            effect: 'raise',
            risk: endpoint.risk,
            code: 'http.endpoint-risk',
            message: `\`${endpoint.pattern}\` is marked ${endpoint.risk} risk in \`http.endpoints\``,
          });
        if (!endpoint.validate) continue;
        if (params.body === undefined && BODYLESS.has(method)) continue;
        const body = bodyValue(params.body);
        if (body === INVALID_JSON || !endpoint.validate(body)) {
          const detail =
            body === INVALID_JSON
              ? 'the body is not JSON'
              : (endpoint.validate.errors ?? [])
                  .slice(0, 3)
                  .map((e) => `${e.instancePath || '(body)'} ${e.message ?? 'is invalid'}`)
                  .join('; ');
          return [
            {
              effect: 'deny',
              code: 'http.payload-invalid',
              message: `the request body does not match the schema for \`${endpoint.pattern}\`: ${detail}`,
            },
          ];
        }
      }
      return findings;
    },
  };
}

const INVALID_JSON = Symbol('invalid JSON');

function bodyValue(body: unknown): unknown {
  if (body === undefined) return null;
  if (typeof body !== 'string') return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return INVALID_JSON;
  }
}
