import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { type Env, fail, type ServerDeps } from './http.js';
import { statusOf } from './http-status.js';
import { authenticate } from './session.js';

/** Largest request body accepted: an action is small; anything bigger is refused before parsing. */
const MAX_BODY_BYTES = 1024 * 1024;

/** Refuses a body over {@link MAX_BODY_BYTES} with 413 `http.body-too-large`. */
export function limitBodySize(): MiddlewareHandler<Env> {
  return bodyLimit({
    maxSize: MAX_BODY_BYTES,
    onError: (c) =>
      fail(
        c,
        'http.body-too-large',
        `the request body is over ${MAX_BODY_BYTES / 1024 / 1024} MiB; send smaller actions`,
      ),
  });
}

/**
 * Sets `principal` and `via` from the bearer token or the dashboard session, or answers 401
 * (with `WWW-Authenticate: Bearer`) or 403 before any route runs.
 */
export function requireAuth({ tokens, sessions }: ServerDeps): MiddlewareHandler<Env> {
  return async function requireAuth(c, next) {
    const auth = authenticate(c, tokens, sessions);
    if ('error' in auth) {
      const { code, message } = auth.error;
      return fail(c, code, message, statusOf(code) === 401 ? { 'www-authenticate': 'Bearer' } : {});
    }
    c.set('principal', auth.principal);
    c.set('via', auth.via);
    await next();
  };
}
