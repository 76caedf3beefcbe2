import type { Risk } from './risk.js';

export type Effect = 'allow' | 'deny' | 'ask';

/**
 * The pipeline stages, in order (SPEC §1; `taint` judges an action by what its session has read, SPEC §2b). A reason names the stage that gave it. `gateway` is
 * the MCP gateway's own refusal before the pipeline (a tool that is unknown, unapproved or
 * changed since it was pinned, or a call that would need several approvals).
 */
export type StageName =
  | 'gateway'
  | 'killswitch'
  | 'validate'
  | 'permissions'
  | 'risk'
  | 'guards'
  | 'taint'
  | 'rules'
  | 'limits'
  | 'approval'
  | 'execute'
  | 'record';

/** Why a decision was made. `code` is stable, lowercase and dotted. */
export interface Reason {
  code: string;
  stage: StageName;
  message: string;
  /** Reasons of the guards stage: the guard that gave it (`fs`, `sql`, `http`, `shell`, `sandbox`, or a registered guard's name). */
  guard?: string;
  /** `limits.*` denials: how long to wait before the same action can be admitted. */
  retryAfterMs?: number;
  /** `limits.*` denials: the limit that refused, with its figures. */
  limit?: LimitFigures;
}

/** A limit's figures in a denial (the same fields as an entry of `GET /v1/limits`). */
export interface LimitFigures {
  name: string;
  kind: 'rate' | 'budget' | 'steps' | 'duration' | 'loop';
  scope: string;
  key: string;
  used: number;
  reserved: number;
  limit: number;
  unit: 'calls' | 'usd' | 'steps' | 'ms';
  window: string;
  resetsAt?: string;
}

export interface ApprovalRequirement {
  required: number;
  roles: string[];
}

/** SPEC §3 (contract). */
export interface Decision {
  id: string;
  effect: Effect;
  risk: Risk;
  reasons: Reason[];
  /** The rule that decided, when a rule did. */
  rule?: string;
  /** The guard that decided, when a guard denied (the same as `reasons[0].guard`). */
  guard?: string;
  approvals?: ApprovalRequirement;
}
