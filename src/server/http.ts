import type { Hono, Context as HonoContext } from 'hono';
import { z } from 'zod';
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

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The request body as JSON; an empty body is `{}` when `optional`, else a {@link BadRequest}.
 * The bytes must be UTF-8: an invalid sequence is refused, never read as U+FFFD (which would
 * let a path mean something else to Warden than to the client that sent it).
 */
export async function jsonBody(c: HonoContext, optional = false): Promise<unknown> {
  let text: string;
  try {
    text = UTF8.decode(await c.req.arrayBuffer());
  } catch {
    throw new BadRequest('the request body is not valid UTF-8: send JSON encoded as UTF-8');
  }
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

// C0 and C1 controls, U+FFFD (what a decoder makes of invalid bytes), and lone surrogates.
const NOT_PRINTABLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what must be found
  /[\u0000-\u001f\u007f-\u009f\ufffd]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** What a query or path value shows of itself in an error: at most 40 characters, controls escaped. */
function shown(value: string): string {
  const cut = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return JSON.stringify(cut).slice(1, -1);
}

/**
 * A printable query value of at most `max` characters (no controls, U+FFFD or lone surrogates).
 * Empty is allowed: a filter left blank (`?agent=`) filters nothing.
 */
export function text(max = 200) {
  return z
    .string()
    .max(max)
    .refine((v) => !NOT_PRINTABLE.test(v))
    .describe(`printable text of at most ${max} characters`);
}

/** A whole number from `min` to `max`, written in decimal digits. */
export function integer(min: number, max: number) {
  return z
    .string()
    .regex(/^\d{1,16}$/)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max))
    .describe(`an integer from ${min} to ${max}`);
}

/** One of `values`. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values).describe(`one of ${values.map((v) => `\`${v}\``).join(', ')}`);
}

/**
 * The query string parsed by `shape` (built from {@link text}, {@link integer}, {@link oneOf}, all
 * optional where the route has a default). Parameters the shape does not name are ignored. A
 * value that does not fit is a {@link BadRequest} naming the parameter, what was expected and what
 * was given.
 *
 * @example const q = query(c, { limit: integer(1, 1000).optional() }); // GET ?limit=-1 → 400
 */
export function query<S extends z.ZodRawShape>(c: HonoContext, shape: S): z.infer<z.ZodObject<S>> {
  const raw = c.req.query();
  const parsed = z.object(shape).safeParse(raw);
  if (parsed.success) return parsed.data;
  const name = String(parsed.error.issues[0]?.path[0] ?? '');
  throw new BadRequest(
    `\`${name}\`: expected ${expectedOf(shape[name] as z.ZodType | undefined)}, got \`${shown(String(raw[name] ?? ''))}\``,
  );
}

/**
 * A path parameter: an agent name or an id, 1–200 printable characters (the bounds the action
 * contract puts on `agent` and `id`). Anything else is a {@link BadRequest}.
 */
export function pathParam(c: HonoContext, name: string): string {
  const value = c.req.param(name) ?? '';
  if (value.length >= 1 && value.length <= 200 && !NOT_PRINTABLE.test(value)) return value;
  throw new BadRequest(
    `\`${name}\` in the path: expected ${name === 'agent' ? 'an agent name' : name === 'id' ? 'an id' : 'a name'} of 1–200 printable characters, got \`${shown(value)}\` (${value.length} characters)`,
  );
}

function expectedOf(schema: z.ZodType | undefined): string {
  let s: z.ZodType | undefined = schema;
  while (s && !s.description && s instanceof z.ZodOptional) s = s.unwrap() as z.ZodType;
  return s?.description ?? 'a valid value';
}
