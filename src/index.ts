/**
 * Warden: guardrails for autonomous AI agents. Every action an agent proposes goes through one
 * pipeline — kill switch, validation, risk, least-privilege permissions, guards, rules, limits,
 * approval, execution with a deadline, and a tamper-evident audit record.
 *
 * @example
 * import { createWarden, loadPolicyFile, openSqliteStore } from 'warden';
 * const warden = await createWarden({ policy: loadPolicyFile('warden.yaml'), store: await openSqliteStore('.warden/warden.db') });
 * const decision = await warden.check({ agent: 'research-agent', type: 'fs.delete', params: { path: '/data/a' } });
 */

export type { Action, ActionInput } from './action/action.js';
export { ActionSchema } from './action/action.js';
export type { Risk } from './action/risk.js';
export { maxRisk, RISK_LEVELS, riskRank } from './action/risk.js';
export type { ApprovalChannel } from './approvals/approval-channel.js';
export { CallbackChannel, LogChannel } from './approvals/approval-channel.js';
export type { VoteInput } from './approvals/approvals.js';
export { ApprovalError, Approvals, actionDigest } from './approvals/approvals.js';
export { AuditLog } from './audit/audit-log.js';
export type { AuditSink } from './audit/audit-sink.js';
export { canonicalJson, sha256Hex } from './audit/canonical-json.js';
export type { ApprovalRequirement, Decision, Effect, Reason, StageName } from './decision/decision.js';
export type { ExecutionContext, Executor } from './execute/execute.js';
export type { Guard, GuardFinding } from './guards/guard.js';
export { ALL_AGENTS, KillSwitch } from './killswitch/kill-switch.js';
export type { Limiter, Reservation } from './limits/limiter.js';
export type { Context, Stage } from './pipeline/context.js';
export { Submissions } from './pipeline/submissions.js';
export type { RunOptions, RunResult, RunStatus, WardenOptions } from './pipeline/warden.js';
export { createWarden, Warden } from './pipeline/warden.js';
export type { CompiledPolicy } from './policy/compile.js';
export { loadPolicyFile, parsePolicyText, policyFromObject } from './policy/load.js';
export type { PolicyIssue } from './policy/policy-error.js';
export { formatIssue, PolicyError } from './policy/policy-error.js';
export type { PolicyConfig, PolicyInput } from './policy/schema.js';
export { createApp } from './server/app.js';
export { startServer } from './server/serve.js';
export type { Principal, Role } from './server/tokens.js';
export { createToken, hashToken, loadTokens, TokenRegistry } from './server/tokens.js';
export { MemoryStore } from './store/memory/memory-store.js';
export { openSqliteStore, SqliteStore } from './store/sqlite/sqlite-store.js';
export type * from './store/store.js';
export { StoreConflictError, StoreNotFoundError } from './store/store.js';
export { validateAction } from './validate/validate.js';
