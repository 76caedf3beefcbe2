import type { AuditEntry } from '../contract/records.js';
import type { RedteamReport } from './run.js';

/** The audit record type of a red-team run (a new kind: readers that do not know it skip it). */
export const REDTEAM_RECORD = 'redteam.run';

/** What a `redteam.run` record holds: the counts, not the cases (the HTML report has those). */
export interface RedteamRecordData {
  policy: string;
  policyDigest: string;
  ok: boolean;
  seed: number;
  variants: number;
  checks: number;
  elapsedMs: number;
  observations: RedteamReport['observations'];
  results: Array<{
    agent: string;
    category: string;
    covered: boolean;
    attacks: number;
    blocked: number;
    allowed: number;
    falseDenies: number;
  }>;
  /** Ids of the allowed attacks (at most 100). */
  allowed: string[];
}

/** The audit entry recording `report`, by `actor` (`cli:<user>`). */
export function redteamEntry(report: RedteamReport, actor: string): AuditEntry {
  const data: RedteamRecordData = {
    policy: report.policy,
    policyDigest: report.policyDigest,
    ok: report.ok,
    seed: report.seed,
    variants: report.variants,
    checks: report.checks,
    elapsedMs: report.elapsedMs,
    observations: report.observations,
    results: report.agents.flatMap((a) =>
      a.categories.map((c) => ({
        agent: a.agent,
        category: c.category,
        covered: c.covered,
        attacks: c.attacks,
        blocked: c.blocked,
        allowed: c.allowed.length,
        falseDenies: c.falseDenies.length,
      })),
    ),
    allowed: report.agents
      .flatMap((a) => a.categories.flatMap((c) => c.allowed.map((o) => `${a.agent}:${o.id}`)))
      .slice(0, 100),
  };
  return { type: REDTEAM_RECORD, actor, data: data as unknown as Record<string, unknown> };
}
