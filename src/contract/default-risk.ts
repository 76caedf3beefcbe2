import type { Risk } from './risk.js';

/** SPEC §2: the default risk of each built-in type. `payment.*` is matched by family. */
export const DEFAULT_TYPE_RISK: Readonly<Record<string, Risk>> = {
  'fs.read': 'low',
  'fs.list': 'low',
  'fs.write': 'medium',
  'fs.delete': 'critical',
  'sql.query': 'low',
  'http.request': 'medium-high',
  'shell.exec': 'high',
  'code.exec': 'high',
  'llm.generate': 'low-medium',
};

/** Risk of a type nobody classified: SPEC §2, "anything else … else medium". */
export const UNKNOWN_TYPE_RISK: Risk = 'medium';

export function defaultRiskOf(type: string): Risk {
  const known = DEFAULT_TYPE_RISK[type];
  if (known) return known;
  if (type.startsWith('payment.')) return 'high';
  return UNKNOWN_TYPE_RISK;
}

/** Financial actions need more approvers by default (the guide: "multiple approvals"). */
export function isFinancial(type: string): boolean {
  return type.startsWith('payment.');
}

/** System commands run only in a sandbox (SPEC §2: deny when none is available). */
export function needsSandbox(type: string): boolean {
  return type === 'shell.exec' || type === 'code.exec';
}
