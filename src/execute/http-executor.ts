import type { IncomingMessage, RequestOptions } from 'node:http';
import { createRequire } from 'node:module';
import type { LookupFunction } from 'node:net';
import type { Action } from '../contract/action.js';
import { type HttpErrorCode, WardenError } from '../contract/errors.js';
import { type CompiledHttp, inspectUrl, literalAddress } from '../guards/http/url-checks.js';
import { classifyAddress, type LookupFn, resolveVetted, SsrfError } from '../net/addresses.js';
import type { ExecutionContext, Executor } from './execute.js';

export interface HttpExecutorOptions {
  http: CompiledHttp;
  /** Whether the agent's host grant (`agents.*.resources.hosts`) admits a redirect target. */
  hostGranted?: (agent: string, host: string) => boolean;
  /** The resolver; defaults to the system's (`dns.lookup`, every address). */
  lookup?: LookupFn;
  /**
   * DANGEROUS, for tests only; never read from a policy. Exact address and port pairs exempt from
   * the blocked ranges, so a test can reach the server it started on loopback. Anything else on
   * that address, or another port, is still refused.
   */
  permit?: readonly { address: string; port: number }[];
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  /** The URL that answered, after redirects. */
  url: string;
  /** Each redirect followed, in order. */
  redirects: string[];
}

/** A request the executor refused or could not complete; `code` is a stable reason code. */
export class HttpExecutionError extends WardenError {
  override readonly name = 'HttpExecutionError';
  constructor(
    override readonly code: HttpErrorCode,
    message: string,
  ) {
    super(code, `${code}: ${message}`, { stage: 'execute' });
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
const TEXTUAL = /^(text\/|application\/(json|xml|javascript|x-www-form-urlencoded|[^;]*\+(json|xml)))/i;

/**
 * Warden's SSRF-safe executor for `http.request`. For each hop it re-runs the guard's URL checks
 * and the agent's host grant, resolves the name once, refuses the request when any address is in
 * a blocked range, and connects to the vetted address only (the socket's `lookup` returns it: no
 * second resolution can differ); TLS SNI and `Host` stay the name. Redirects are followed by hand,
 * at most `http.maxRedirects`, each hop vetted the same way. Bodies are capped at
 * `http.maxResponseBytes`; the whole request at `http.timeout`.
 */
export function createHttpExecutor(options: HttpExecutorOptions): Executor<HttpResponse> {
  const { http } = options;
  const permitted = new Set((options.permit ?? []).map((p) => `${p.address}|${p.port}`));
  return async function httpExecutor(action: Action, context: ExecutionContext): Promise<HttpResponse> {
    const signal = AbortSignal.any([context.signal, AbortSignal.timeout(http.timeoutMs)]);
    let method = String(action.params.method ?? 'GET').toUpperCase();
    let headers = { ...((action.params.headers ?? {}) as Record<string, string>) };
    let body = encodeBody(action.params.body, headers);
    let current = String(action.params.url);
    const redirects: string[] = [];
    for (let hop = 0; ; hop++) {
      const url = vetUrl(current, hop, action.agent);
      const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
      const target = await vetAddress(url.hostname, port);
      const res = await send(url, target, method, headers, body, signal);
      const location = res.headers.location;
      if (!REDIRECTS.has(res.statusCode ?? 0) || location === undefined) {
        return await readResponse(res, url, redirects, http.config.maxResponseBytes);
      }
      res.resume();
      if (hop >= http.config.maxRedirects)
        throw new HttpExecutionError(
          'http.too-many-redirects',
          `more than ${http.config.maxRedirects} redirects (http.maxRedirects); last to \`${location}\``,
        );
      const next = new URL(location, url);
      redirects.push(next.href);
      if (next.origin !== url.origin)
        for (const h of Object.keys(headers))
          if (CREDENTIAL_HEADERS.includes(h.toLowerCase())) delete headers[h];
      if (
        res.statusCode === 303 ||
        ((res.statusCode === 301 || res.statusCode === 302) && method === 'POST')
      ) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        body = undefined;
        headers = Object.fromEntries(Object.entries(headers).filter(([h]) => !/^content-/i.test(h)));
      }
      current = next.href;
    }
  };

  function vetUrl(raw: string, hop: number, agent: string): URL {
    const { url, findings } = inspectUrl(raw, http);
    // The first hop passed the guard already; a redirect hop must pass it with no finding at all
    // (a redirect to a sensitive endpoint was not what was approved).
    const refusal = findings.find((f) => f.effect === 'deny' || hop > 0);
    if (refusal || !url) {
      const what = hop > 0 ? `redirect to \`${raw}\` refused: ` : '';
      throw new HttpExecutionError(refusal?.code ?? 'http.invalid-url', what + (refusal?.message ?? raw));
    }
    if (hop > 0 && options.hostGranted && !options.hostGranted(agent, url.hostname.replace(/^\[|\]$/g, '')))
      throw new HttpExecutionError(
        'http.redirect-refused',
        `redirect to \`${raw}\` refused: host \`${url.hostname}\` is outside the grants of agent \`${agent}\``,
      );
    return url;
  }

  async function vetAddress(hostname: string, port: number): Promise<{ address: string; family: 4 | 6 }> {
    const name = hostname.replace(/\.$/, '');
    try {
      // Production path: exactly what the sandbox's proxy does.
      if (permitted.size === 0)
        return await resolveVetted(hostname, options.lookup ? { lookup: options.lookup } : {});
      return await vetWithPermits(hostname, port);
    } catch (error) {
      if (error instanceof SsrfError) throw new HttpExecutionError(error.code, error.message);
      throw new HttpExecutionError(
        'http.unresolved',
        `host \`${name}\` cannot be resolved: ${(error as Error).message}`,
      );
    }
  }

  /** Tests only (`permit`): the same vetting, with exact address and port pairs exempt. */
  async function vetWithPermits(hostname: string, port: number): Promise<{ address: string; family: 4 | 6 }> {
    const literal = literalAddress(hostname);
    const name = hostname.replace(/\.$/, '');
    const addresses = literal
      ? [{ address: literal, family: (literal.includes(':') ? 6 : 4) as 4 | 6 }]
      : await (options.lookup ?? systemLookup)(name);
    if (addresses.length === 0) throw new Error('no addresses');
    for (const { address } of addresses) {
      const verdict = classifyAddress(address);
      if (verdict.blocked && !permitted.has(`${address}|${port}`))
        throw new SsrfError(name, address, verdict.range);
    }
    return addresses[0] as { address: string; family: 4 | 6 };
  }
}

type Requester = typeof import('node:http').request;

/**
 * `node:http` and `node:https`, loaded on the first request: most Wardens never send one, and
 * compiling them cost every start (`warden mcp`'s included) about 5–9 ms.
 */
let requesters: { http: Requester; https: Requester } | undefined;
function requester(protocol: string): Requester {
  if (!requesters) {
    const load = createRequire(import.meta.url);
    requesters = {
      http: (load('node:http') as typeof import('node:http')).request,
      https: (load('node:https') as typeof import('node:https')).request,
    };
  }
  return protocol === 'https:' ? requesters.https : requesters.http;
}

const systemLookup: LookupFn = async (host) => {
  const { lookup } = await import('node:dns/promises');
  const found = await lookup(host, { all: true, verbatim: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

function encodeBody(body: unknown, headers: Record<string, string>): Buffer | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body);
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
    headers['content-type'] = 'application/json';
  return Buffer.from(JSON.stringify(body));
}

function send(
  url: URL,
  target: { address: string; family: 4 | 6 },
  method: string,
  headers: Record<string, string>,
  body: Buffer | undefined,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  // INVARIANT: the socket connects to `target` and nothing else; this lookup never resolves.
  const pinned = ((_host: string, opts: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (opts?.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  }) as unknown as LookupFunction;
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const requestOptions: RequestOptions & { servername?: string } = {
    protocol: url.protocol,
    hostname,
    port: url.port || undefined,
    path: url.pathname + url.search,
    method,
    headers: body ? { ...headers, 'content-length': String(body.length) } : headers,
    lookup: pinned,
    agent: false,
    signal,
  };
  if (url.protocol === 'https:' && !literalAddress(url.hostname)) requestOptions.servername = hostname;
  return new Promise((resolve, reject) => {
    const req = requester(url.protocol)(requestOptions, resolve);
    req.on('error', (error) =>
      reject(
        signal.aborted
          ? new HttpExecutionError('http.timeout', `no complete answer from \`${url.host}\` in time`)
          : error,
      ),
    );
    req.end(body);
  });
}

function readResponse(
  res: IncomingMessage,
  url: URL,
  redirects: string[],
  cap: number,
): Promise<HttpResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > cap) {
        res.destroy();
        reject(
          new HttpExecutionError(
            'http.response-too-large',
            `the response from \`${url.host}\` is larger than ${cap} bytes (http.maxResponseBytes)`,
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    res.on('error', reject);
    res.on('end', () => {
      const buffer = Buffer.concat(chunks);
      const textual = TEXTUAL.test(String(res.headers['content-type'] ?? 'text/plain'));
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers))
        if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
      resolve({
        status: res.statusCode ?? 0,
        headers,
        body: buffer.toString(textual ? 'utf8' : 'base64'),
        bodyEncoding: textual ? 'utf8' : 'base64',
        url: url.href,
        redirects,
      });
    });
  });
}
