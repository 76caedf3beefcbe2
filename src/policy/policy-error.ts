import { WardenError } from '../contract/errors.js';

/** One problem in a policy file, located as precisely as the source allows. */
export interface PolicyIssue {
  file: string;
  line?: number;
  column?: number;
  /** Dotted path of the field, e.g. `rules[3].effect`. */
  field: string;
  message: string;
}

/**
 * A policy that cannot be used (`policy.invalid`). The message lists every issue as
 * `file:line:col: field: message`.
 */
export class PolicyError extends WardenError {
  override readonly name = 'PolicyError';
  declare readonly code: 'policy.invalid';
  constructor(readonly issues: PolicyIssue[]) {
    super('policy.invalid', issues.map(formatIssue).join('\n'));
  }
}

export function formatIssue(issue: PolicyIssue): string {
  const where = issue.line === undefined ? issue.file : `${issue.file}:${issue.line}:${issue.column ?? 1}`;
  return `${where}: ${issue.field || '(policy)'}: ${issue.message}`;
}

export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

export function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

/**
 * A zod issue in Warden's error style: lowercase, what was expected, and what was given
 * (when the schema was run with `reportInput`).
 */
export function describeIssue(issue: { code: string; message: string; input?: unknown }): string {
  if (issue.input === undefined && issue.code === 'invalid_type') {
    return `required field is missing (${lowerFirst(issue.message.replace(/^Invalid input: /, '').replace(/, received undefined$/, ''))})`;
  }
  let message = lowerFirst(issue.message.replace(/^Invalid input: /, ''));
  if (issue.input !== undefined && (issue.code === 'invalid_value' || issue.code === 'invalid_type')) {
    const shown = JSON.stringify(issue.input);
    if (shown !== undefined && shown.length <= 80) message += `, got \`${shown}\``;
  }
  return message;
}
