import { randomBytes } from 'node:crypto';
import type { Context as HonoContext } from 'hono';
import { getCookie } from 'hono/cookie';
import { equalSecrets } from '../lib/equal-secrets.js';
import type { Principal, TokenRegistry } from './tokens.js';

/** The dashboard's session cookie: HttpOnly, SameSite=Strict, never readable by scripts. */
export const SESSION_COOKIE = 'warden_session';
/** The header a cookie-authenticated state-changing request must carry (double submit). */
export const CSRF_HEADER = 'x-warden-csrf';

const IDLE_MS = 12 * 60 * 60 * 1000;
const MAX_SESSIONS = 10_000;

export interface Session {
  id: string;
  principal: Principal;
  /** Sent to the page in the login response body; echoed back in {@link CSRF_HEADER}. */
  csrf: string;
  lastSeen: number;
}

/**
 * Dashboard sessions, held in memory: a restart of the server logs everyone out (they sign in
 * again with their token). The token is exchanged once, in a POST body, for a random session id
 * in a cookie; it never appears in a URL.
 */
export class Sessions {
  private readonly byId = new Map<string, Session>();

  create(principal: Principal): Session {
    if (this.byId.size >= MAX_SESSIONS) this.prune(true);
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      principal,
      csrf: randomBytes(24).toString('base64url'),
      lastSeen: Date.now(),
    };
    this.byId.set(session.id, session);
    return session;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const session = this.byId.get(id);
    if (!session) return undefined;
    if (Date.now() - session.lastSeen > IDLE_MS) {
      this.byId.delete(id);
      return undefined;
    }
    session.lastSeen = Date.now();
    return session;
  }

  delete(id: string | undefined): void {
    if (id) this.byId.delete(id);
  }

  private prune(force: boolean): void {
    const now = Date.now();
    for (const [id, s] of this.byId) if (now - s.lastSeen > IDLE_MS) this.byId.delete(id);
    if (force && this.byId.size >= MAX_SESSIONS) {
      const oldest = [...this.byId.values()].sort((a, b) => a.lastSeen - b.lastSeen);
      for (const s of oldest.slice(0, MAX_SESSIONS / 10)) this.byId.delete(s.id);
    }
  }
}

export type Authentication =
  | { principal: Principal; via: 'bearer' | 'session'; session?: Session }
  | { error: { code: string; message: string } };

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Who sent the request: a bearer token (API clients, unchanged), or else the dashboard's session
 * cookie. A cookie-authenticated request that changes state must also carry the session's CSRF
 * token in `X-Warden-CSRF` and an `Origin` equal to this server's: a cross-site page can make the
 * browser send the cookie, but it can neither read the token nor set a custom header without a
 * CORS preflight, which this server never grants.
 */
export function authenticate(c: HonoContext, tokens: TokenRegistry, sessions: Sessions): Authentication {
  const header = c.req.header('authorization');
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const principal = tokens.authenticate(match?.[1]);
    return principal ? { principal, via: 'bearer' } : missing();
  }
  const session = sessions.get(getCookie(c, SESSION_COOKIE));
  if (!session) return missing();
  if (!SAFE_METHODS.has(c.req.method)) {
    const origin = c.req.header('origin');
    const host = c.req.header('host');
    let sameOrigin = false;
    try {
      sameOrigin = origin !== undefined && host !== undefined && new URL(origin).host === host;
    } catch {
      sameOrigin = false;
    }
    if (!sameOrigin || !equalSecrets(c.req.header(CSRF_HEADER), session.csrf)) {
      return {
        error: {
          code: 'auth.csrf',
          message:
            'a dashboard request that changes state needs the same-origin `Origin` header and the session’s `X-Warden-CSRF` token; reload the dashboard',
        },
      };
    }
  }
  return { principal: session.principal, via: 'session', session };
}

function missing(): Authentication {
  return {
    error: {
      code: 'auth.missing-token',
      message: 'a valid bearer token is required: send `Authorization: Bearer <token>`',
    },
  };
}
