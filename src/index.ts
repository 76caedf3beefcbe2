/**
 * Warden: guardrails for autonomous AI agents. Every action an agent proposes goes through one
 * pipeline — kill switch, validation, risk, least-privilege permissions, guards, rules, limits,
 * approval, execution with a deadline, and a tamper-evident audit record.
 *
 * @example
 * import { createWarden, loadPolicyFile, openSqliteStore } from 'warden';
 * const warden = await createWarden({ policy: loadPolicyFile('warden.yaml'), store: await openSqliteStore('.warden/warden.db') });
 * const decision = await warden.check({ agent: 'research-agent', type: 'fs.delete', params: { path: '/data/a' } });
 *
 * This root export loads no HTTP framework, MCP SDK or Docker client (`scripts/check-light-root.mjs`
 * holds it to that). Those parts have subpaths of their own: `warden/server` (the HTTP control
 * plane), `warden/mcp` (the MCP gateway), `warden/sandbox/docker` (the Docker sandbox).
 */

export type { ApprovalChannel } from './approvals/approval-channel.js';
export { CallbackChannel, LogChannel } from './approvals/approval-channel.js';
export type { VoteInput } from './approvals/approvals.js';
export { ApprovalError, Approvals, actionDigest } from './approvals/approvals.js';
export { channelsFromPolicy } from './approvals/channels/from-policy.js';
export { SlackChannel, slackSignature, verifySlackRequest } from './approvals/channels/slack.js';
export { WebhookChannel, webhookSignature } from './approvals/channels/webhook.js';
export { AuditLog } from './audit/audit-log.js';
export { canonicalJson, sha256Hex } from './audit/canonical-json.js';
export type { Action, ActionInput } from './contract/action.js';
export { ActionSchema } from './contract/action.js';
export type { Alert, AlertDelivery, AlertSink, AlertStore } from './contract/alert.js';
export type { StageContext, StageOf, StageOutcome } from './contract/context.js';
export type {
  ApprovalRequirement,
  Decision,
  Effect,
  LimitFigures,
  Reason,
  StageName,
} from './contract/decision.js';
export type { WardenErrorCode } from './contract/errors.js';
export { isWardenError, WardenError } from './contract/errors.js';
export type {
  ContentFinding,
  Observation,
  ObservationRecord,
  SessionTaintView,
  TaintLabel,
  Trust,
} from './contract/observation.js';
export { ObservationError, ObservationSchema } from './contract/observation.js';
export type { DecisionEvent, PipelineObserver, ResultEvent, StageTiming } from './contract/observer.js';
export type { AuditSink } from './contract/records.js';
export type { Risk } from './contract/risk.js';
export { maxRisk, RISK_LEVELS, riskRank } from './contract/risk.js';
export type { ExecutionContext, Executor } from './execute/execute.js';
export type { FsListOutput, FsReadOutput } from './execute/fs-executor.js';
export { FsRefusal, fsExecutors } from './execute/fs-executor.js';
export type { HttpExecutorOptions, HttpResponse } from './execute/http-executor.js';
export { createHttpExecutor, HttpExecutionError } from './execute/http-executor.js';
export { codeExecutor, shellExecutor } from './execute/sandbox-executors.js';
export { withSecretReferences } from './execute/secret-references.js';
export type { QueryOptions, SqlResult } from './execute/sql/pg-database.js';
export { PgDatabase } from './execute/sql/pg-database.js';
export type { SqlDatabase, SqlOutput } from './execute/sql/sql-executor.js';
export { openDatabases, sqlExecutor } from './execute/sql/sql-executor.js';
export { SqliteDatabase } from './execute/sql/sqlite-database.js';
export { fsGuard } from './guards/fs/fs-guard.js';
export { encodedPathProblem, FsScope, realLocation } from './guards/fs/fs-paths.js';
export type { Guard, GuardFinding } from './guards/guard.js';
export { createHttpGuard } from './guards/http/http-guard.js';
export { compileHttp, inspectUrl } from './guards/http/url-checks.js';
export { compileShell, createShellGuard } from './guards/shell/shell-guard.js';
export { loadShellParser } from './guards/shell/shell-parser.js';
export { sqlGuard } from './guards/sql/sql-guard.js';
export type { Evidence, EvidenceCheck } from './incident/evidence.js';
export { preserveEvidence, verifyEvidence } from './incident/evidence.js';
export type { Prevention, Proposal, ProposedRate, RateProposal } from './incident/prevent.js';
export { proposePrevention } from './incident/prevent.js';
export { reportHtml, reportMarkdown } from './incident/render.js';
export type { IncidentReport } from './incident/report.js';
export { buildIncidentReport } from './incident/report.js';
export { ALL_AGENTS, KillSwitch } from './killswitch/kill-switch.js';
export {
  signWebhook,
  verifyWebhook,
  WEBHOOK_SIGNATURE_HEADER,
  WEBHOOK_TIMESTAMP_HEADER,
  webhookHeaders,
} from './lib/webhook-signature.js';
export type { BudgetResult, LimitsBackend, RateResult, RateSpec } from './limits/backend.js';
export { BackendUnavailableError } from './limits/backend.js';
export { memoryBackend } from './limits/backends/memory-backend.js';
export { buildLimiters } from './limits/build-limiters.js';
export type { Estimate, Usage } from './limits/cost.js';
export { CostModel, usageOf } from './limits/cost.js';
export type { Limiter, LimitUsage, Reservation } from './limits/limiter.js';
export { openLimitsBackend } from './limits/open-backend.js';
export type { ModelPrice, PriceLookup } from './limits/prices.js';
export { PRICE_TABLE, PRICES_AS_OF, PRICES_SOURCE, priceLookup } from './limits/prices.js';
export type { LimitsView } from './limits/usage.js';
export { limitsView } from './limits/usage.js';
export { AlertDispatcher } from './monitor/alerts/dispatcher.js';
export { createSink } from './monitor/alerts/sinks.js';
export type { Anomaly, AnomalyCode } from './monitor/anomalies.js';
export { AnomalyDetector } from './monitor/anomalies.js';
export { Metrics } from './monitor/metrics.js';
export type { LimitTightener, TightenRequest } from './monitor/monitor.js';
export { Monitor, monitorOf } from './monitor/monitor.js';
export { redact } from './monitor/redact.js';
export type { AddressClass, LookupFn } from './net/addresses.js';
export { classifyAddress, resolveVetted, SsrfError } from './net/addresses.js';
export { Submissions } from './pipeline/submissions.js';
export type { RunOptions, RunResult, RunStatus, WardenOptions } from './pipeline/warden.js';
export { createWarden, Warden } from './pipeline/warden.js';
export type { CompiledPolicy } from './policy/compile.js';
export type { Context, Stage } from './policy/context.js';
export { loadPolicyFile, parsePolicyText, policyFromObject } from './policy/load.js';
export type { PolicyIssue } from './policy/policy-error.js';
export { formatIssue, PolicyError } from './policy/policy-error.js';
export type { PolicyConfig, PolicyInput } from './policy/schema.js';
export type { ApprovalChannelsConfig } from './policy/sections/approvals.js';
export type { FsPolicy } from './policy/sections/fs.js';
export { DEFAULT_PROTECTED } from './policy/sections/fs.js';
export type { HttpPolicy } from './policy/sections/http.js';
export type { LimitsConfig } from './policy/sections/limits.js';
export type { MonitoringConfig } from './policy/sections/monitor.js';
export type { SandboxPolicy, SandboxPolicyInput } from './policy/sections/sandbox.js';
export { SandboxPolicySchema } from './policy/sections/sandbox.js';
export type { ShellPolicy } from './policy/sections/shell.js';
export type { SqlDatabaseConfig, SqlPolicy } from './policy/sections/sql.js';
export type { UntrustedPolicy } from './policy/sections/untrusted.js';
export { BwrapSandbox, createBwrapSandbox } from './sandbox/bwrap-sandbox.js';
export type { SandboxChoice } from './sandbox/choose-sandbox.js';
export { chooseSandbox } from './sandbox/choose-sandbox.js';
export type {
  LimitName,
  Sandbox,
  SandboxInfo,
  SandboxLimits,
  SandboxOutcome,
  SandboxRequest,
  SandboxResult,
  SandboxRun,
  SandboxRunListener,
  SandboxStream,
  Violation,
} from './sandbox/sandbox.js';
export { SandboxError, sandboxOutcome } from './sandbox/sandbox.js';
export { type SecretHit, SecretScanner, secretScanner } from './secrets/detect.js';
export { redactSecrets } from './secrets/redact-secrets.js';
export { type ReviewFinding, type ReviewResult, reviewText } from './secrets/review.js';
export type { SqlAnalysis, SqlClass, SqlDialect, SqlFinding, SqlOperation } from './sql/sql-analysis.js';
export { analyzeSql, loadSqlParser } from './sql/sql-analysis.js';
export { MemoryAlertStore } from './store/memory/memory-alerts.js';
export { MemoryStore } from './store/memory/memory-store.js';
export type { OverrideChange, OverrideState } from './store/overrides.js';
export { Overrides } from './store/overrides.js';
export { openSqliteStore, SqliteStore } from './store/sqlite/sqlite-store.js';
export type * from './store/store.js';
export { StoreConflictError, StoreNotFoundError } from './store/store.js';
export type { Detector, Observed } from './taint/index.js';
export { createTaintSessions, patternDetector, TaintSessions } from './taint/index.js';
export { validateAction } from './validate/validate.js';
