import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { type Action, ActionSchema } from '../action/action.js';
import type { Reason } from '../decision/decision.js';
import { describeIssue, fieldPath } from '../policy/policy-error.js';
import { paramSchemaFor } from './param-schemas.js';

export type Validation = { ok: true; action: Action } | { ok: false; field: string; message: string };

/** A new action id: `act_` and 32 hex digits of randomness. */
export function newActionId(): string {
  return `act_${randomUUID().replaceAll('-', '')}`;
}

/**
 * Checks an action's shape (SPEC §2) and its type's params. The message names the field and
 * what was expected, e.g. "`params.path`: expected a non-empty path".
 */
export function validateAction(input: unknown): Validation {
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
