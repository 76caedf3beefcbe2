import type { Hono, Context as HonoContext } from 'hono';
import { WardenError } from '../contract/errors.js';
import type { Submissions } from '../pipeline/submissions.js';
import type { Warden } from '../pipeline/warden.js';
import { statusOf } from './http-status.js';
import type { Sessions } from './session.js';
import type { Principal, Role, TokenRegistry } from './tokens.js';

/** What the auth middleware puts on every authenticated request. */
export type Env = { Variables: { principal: Principal; via: 'bearer' | 'session' } };

/** The control plane's Hono app. */
export type App = Hono<Env>;

/** A request to the control plane. */
export type AppContext = HonoContext<Env>;

/** What the route groups share, built once by `createApp`. */
export interface ServerDeps {
  warden: Warden;
  tokens: TokenRegistry;
  sessions: Sessions;
  submissions: Submissions;
}

/** Which roles may call what. `agent` tokens can never approve, kill or read the audit log. */
export const CAN = {
  submit: ['agent', 'admin'],
  read: ['viewer', 'approver', 'admin'],
  vote: ['approver', 'admin'],
  operate: ['admin'],
} as const satisfies Record<string, readonly Role[]>;

/** A request the client got wrong; the app's error handler answers it with 400 `validate.invalid`. */
/** A request the server cannot read (an empty or malformed body, a bad parameter): 400 `validate.invalid`. */
export class BadRequest extends WardenError {
  constructor(message: string) {
    super('validate.invalid', message, { stage: 'validate' });
  }
}

/** Every error body: `{ "error": { "code", "message" } }`. */
export function errorBody(code: string, message: string) {
  return { error: { code, message } };
}

/**
 * The error response for `code`, with the status the table in `http-status.ts` gives it.
 *
 * @example return fail(c, 'validate.invalid', '`status`: expected `completed` or `failed`');
 */
export function fail(
  c: HonoContext,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return c.json(errorBody(code, message), statusOf(code), headers);
}

/** Checks the caller's role; returns the 403 response to send, or undefined when allowed. */
export function forbidden(c: AppContext, roles: readonly Role[], what: string): Response | undefined {
  const p = c.get('principal');
  if (roles.includes(p.role)) return undefined;
  return fail(c, 'auth.forbidden', `role \`${p.role}\` may not ${what}; it needs one of ${roles.join(', ')}`);
}

/** The request body as JSON; an empty body is `{}` when `optional`, else a {@link BadRequest}. */
export async function jsonBody(c: HonoContext, optional = false): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') {
    if (optional) return {};
    throw new BadRequest('the request body is empty: send a JSON object');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new BadRequest(`the request body is not JSON (${(e as Error).message})`);
  }
}
