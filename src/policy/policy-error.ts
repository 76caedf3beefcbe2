/** One problem in a policy file, located as precisely as the source allows. */
export interface PolicyIssue {
  file: string;
  line?: number;
  column?: number;
  /** Dotted path of the field, e.g. `rules[3].effect`. */
  field: string;
  message: string;
}

/** A policy that cannot be used. The message lists every issue as `file:line:col: field: message`. */
export class PolicyError extends Error {
  override readonly name = 'PolicyError';
  constructor(readonly issues: PolicyIssue[]) {
    super(issues.map(formatIssue).join('\n'));
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
