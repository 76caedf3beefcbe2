import type { Risk } from '../action/risk.js';

export type Effect = 'allow' | 'deny' | 'ask';

/** The pipeline stages, in order (SPEC §1). A reason names the stage that gave it. */
export type StageName =
  | 'killswitch'
  | 'validate'
  | 'permissions'
  | 'risk'
  | 'guards'
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
  rule?: string;
  approvals?: ApprovalRequirement;
}
