import { randomBytes } from 'node:crypto';
import type { z } from 'zod';
import { ACTION_TYPE_PATTERN, type Action, ActionSchema } from '../contract/action.js';
import type { Reason } from '../contract/decision.js';
import { normalizeGrantPath } from '../lib/resources.js';
import { describeIssue, fieldPath } from '../policy/policy-error.js';
import { paramSchemaFor } from './param-schemas.js';

export type Validation = { ok: true; action: Action } | { ok: false; field: string; message: string };

// Random hex drawn from node:crypto 4,000 bytes (400 ids) at a time, and the time's hex made once
// per millisecond: an id is one slice and one concatenation on the hot path of every decision.
const ID_RANDOM_HEX = 20;
let randomHex = '';
let randomAt = 0;
let lastMs = -1;
let msHex = '';

/**
 * A new action id: `act_` and 32 hex digits: the time in ms (12 digits), then 80 random bits from
 * node:crypto. Unguessable, so one agent cannot compute the id of another agent's next action;
 * time-ordered, so the audit's index on action ids grows at its end (fully random ids cost ~17%
 * of durable decisions per second through random B-tree inserts).
 */
export function newActionId(): string {
  if (randomAt + ID_RANDOM_HEX > randomHex.length) {
    randomHex = randomBytes(4000).toString('hex');
    randomAt = 0;
  }
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    msHex = ms.toString(16).padStart(12, '0');
  }
  const id = `act_${msHex}${randomHex.slice(randomAt, randomAt + ID_RANDOM_HEX)}`;
  randomAt += ID_RANDOM_HEX;
  return id;
}

/**
 * Checks an action's shape (SPEC §2) and its type's params. The message names the field and
 * what was expected, e.g. "`params.path`: expected a non-empty path".
 *
 * The common valid case takes a hand-written fast path that accepts only what `ActionSchema`
 * accepts (a property test holds them together); anything else, and every failure, goes through
 * the zod schemas, which remain the single source of the rules and of the error messages.
 */
export function validateAction(input: unknown): Validation {
  if (typeof input === 'object' && input !== null && !clean(input, 0)) {
    const unfaithful = faithful(input, [], 0);
    if (unfaithful) return unfaithful;
  }
  const fast = fastPath(input);
  if (fast) {
    const schema = paramSchemaFor(fast.type);
    if (!schema || schema.safeParse(fast.params).success) return { ok: true, action: canonicalPaths(fast) };
  }
  const full = fullValidation(input);
  return full.ok ? { ok: true, action: canonicalPaths(full.action) } : full;
}

/**
 * `fs.*` paths are normalised once, here (`/data/./a`, `/data//a` and `/data/x/../a` all become
 * `/data/a`), so that grants, rules and the executor all see the same path: a rule cannot be
 * dodged by spelling a path differently. A path that cannot be normalised is left for the
 * permissions stage to refuse with its reason.
 */
function canonicalPaths(action: Action): Action {
  if (!action.type.startsWith('fs.') || typeof action.params.path !== 'string') return action;
  const normalized = normalizeGrantPath(action.params.path);
  if (typeof normalized === 'string' && normalized !== action.params.path) {
    // INVARIANT: normalising never erases a character the file guard refuses as encoded or
    // look-alike (`/root/．/../x` is `/root/x` lexically, but `/x` to anything that decodes `．`):
    // such a path is left as written, for the file guard to refuse.
    if (suspects(normalized) !== suspects(action.params.path)) return action;
    action.params = { ...action.params, path: normalized };
  }
  return action;
}

const SUSPECT = /[%\\]|[^\x20-\x7e]/g;
const suspects = (path: string) => path.match(SUSPECT)?.length ?? 0;

function fullValidation(input: unknown): Validation {
  const base = ActionSchema.safeParse(input, { reportInput: true });
  if (!base.success) return failure(base.error.issues[0], []);
  const data = base.data;
  const params = data.params ?? {};
  const schema = paramSchemaFor(data.type);
  if (schema) {
    const checked = schema.safeParse(params, { reportInput: true });
    if (!checked.success) return failure(checked.error.issues[0], ['params']);
  }
  const action: Action = { ...data, params, id: data.id ?? newActionId() } as Action;
  return { ok: true, action };
}

const FIELDS = new Set(['agent', 'type', 'params', 'id', 'user', 'session', 'description']);
const typeOk = new Map<string, boolean>();

const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200;

/** The valid common case without allocation-heavy parsing; `undefined` means "ask zod". */
function fastPath(input: unknown): Action | undefined {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) return undefined;
  if (Object.getPrototypeOf(input) !== Object.prototype) return undefined;
  const o = input as Record<string, unknown>;
  for (const key of Object.keys(o)) if (!FIELDS.has(key)) return undefined; // `cost` and typos: zod
  const { agent, type, params, id, user, session, description } = o;
  if (!isName(agent) || typeof type !== 'string' || type.length > 200) return undefined;
  let known = typeOk.get(type);
  if (known === undefined) {
    known = ACTION_TYPE_PATTERN.test(type);
    if (typeOk.size >= 10_000) typeOk.clear();
    typeOk.set(type, known);
  }
  if (!known) return undefined;
  if (params !== undefined) {
    if (params === null || typeof params !== 'object' || Array.isArray(params)) return undefined;
    if (Object.getPrototypeOf(params) !== Object.prototype) return undefined;
  }
  if (id !== undefined && !isName(id)) return undefined;
  if (user !== undefined && !isName(user)) return undefined;
  if (session !== undefined && !isName(session)) return undefined;
  if (description !== undefined && (typeof description !== 'string' || description.length > 10_000))
    return undefined;
  // A shallow copy: the caller changing its object afterwards cannot change what was decided.
  const action: Action = {
    agent,
    type,
    params: params ? { ...(params as Record<string, unknown>) } : {},
    id: id ?? newActionId(),
  };
  if (user !== undefined) action.user = user;
  if (session !== undefined) action.session = session;
  if (description !== undefined) action.description = description;
  return action;
}

/** Nesting deeper than this (counted from the action itself) is refused: no honest action needs it. */
export const MAX_INPUT_DEPTH = 100;

// Half of a UTF-16 surrogate pair on its own: text that no UTF-8 client could have sent.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
// Any surrogate at all: a much cheaper test that rules out almost every string first.
const SURROGATE = /[\ud800-\udfff]/;
const loneSurrogate = (text: string) => SURROGATE.test(text) && LONE_SURROGATE.test(text);

/** {@link faithful}'s question without building paths: the cheap pass every action takes. */
function clean(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
      return !loneSurrogate(value);
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_INPUT_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!clean(value[i], depth + 1)) return false;
        return true;
      }
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        if (loneSurrogate(key) || !clean((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return true;
  }
}

/**
 * What JSON can parse but an action must not carry, anywhere in it: a lone surrogate in a string
 * or key, a non-finite number (`1e309` parses as `Infinity`), or nesting deeper than
 * {@link MAX_INPUT_DEPTH}. Such an input is refused here, with the field, so its deny is
 * recorded like any other instead of failing later where it cannot be written down.
 */
function faithful(value: unknown, path: PropertyKey[], depth: number): Validation | undefined {
  if (typeof value === 'string') {
    if (!loneSurrogate(value)) return undefined;
    return refused(path, 'holds a lone surrogate (half of a UTF-16 pair): send well-formed Unicode text');
  }
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return undefined;
    return refused(path, `expected a finite number, got \`${value}\` (JSON numbers stop at about 1.8e308)`);
  }
  if (value === null || typeof value !== 'object') return undefined;
  if (depth >= MAX_INPUT_DEPTH) {
    return refused(path.slice(0, 3), `nested deeper than ${MAX_INPUT_DEPTH} levels: flatten it`);
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      const problem = faithful(value[i], path, depth + 1);
      path.pop();
      if (problem) return problem;
    }
    return undefined;
  }
  for (const key of Object.keys(value)) {
    path.push(key);
    const problem = loneSurrogate(key)
      ? refused(path, 'the key holds a lone surrogate (half of a UTF-16 pair): send well-formed Unicode text')
      : faithful((value as Record<string, unknown>)[key], path, depth + 1);
    path.pop();
    if (problem) return problem;
  }
  return undefined;
}

function refused(path: PropertyKey[], message: string): Validation {
  return { ok: false, field: fieldPath([...path]), message };
}

function failure(issue: z.core.$ZodIssue | undefined, prefix: PropertyKey[]): Validation {
  if (!issue) return { ok: false, field: '', message: 'invalid action' };
  let path = [...prefix, ...issue.path];
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    path = [...path, issue.keys[0] ?? ''];
    message = 'unknown field; an action has agent, type, params, id, user, session, cost and description';
  } else {
    message = describeIssue(issue);
  }
  return { ok: false, field: fieldPath(path), message };
}

export function validationReason(v: Extract<Validation, { ok: false }>): Reason {
  const where = v.field ? `\`${v.field}\`: ` : '';
  return { code: 'validate.invalid', stage: 'validate', message: `invalid action: ${where}${v.message}` };
}
