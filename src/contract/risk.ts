/** Risk levels, lowest first (SPEC §2). The order is the contract: comparisons use the index. */
export const RISK_LEVELS = ['low', 'low-medium', 'medium', 'medium-high', 'high', 'critical'] as const;
export type Risk = (typeof RISK_LEVELS)[number];

const RANK: Record<Risk, number> = {
  low: 0,
  'low-medium': 1,
  medium: 2,
  'medium-high': 3,
  high: 4,
  critical: 5,
};

export function riskRank(risk: Risk): number {
  return RANK[risk];
}

export function isRisk(value: unknown): value is Risk {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}

/** The higher of two risks: guards may only raise risk, never lower it. */
export function maxRisk(a: Risk, b: Risk): Risk {
  return RANK[a] >= RANK[b] ? a : b;
}
