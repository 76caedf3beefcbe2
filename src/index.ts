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
export type { ApprovalChannelsConfig } from './approvals/channels/channels-policy.js';
export { channelsFromPolicy } from './approvals/channels/from-policy.js';
export { SlackChannel, slackSignature, verifySlackRequest } from './approvals/channels/slack.js';
export { verifyWebhook, WebhookChannel, webhookSignature } from './approvals/channels/webhook.js';
export { AuditLog } from './audit/audit-log.js';
export type { AuditSink } from './audit/audit-sink.js';
export { canonicalJson, sha256Hex } from './audit/canonical-json.js';
export type {
  ApprovalRequirement,
  Decision,
  Effect,
  LimitFigures,
  Reason,
  StageName,
} from './decision/decision.js';
export type { ExecutionContext, Executor } from './execute/execute.js';
export type { HttpExecutorOptions, HttpResponse } from './execute/http-executor.js';
export { createHttpExecutor, HttpExecutionError } from './execute/http-executor.js';
export type { FsListOutput, FsReadOutput } from './guards/fs/fs-executor.js';
export { FsRefusal, fsExecutors } from './guards/fs/fs-executor.js';
export { fsGuard } from './guards/fs/fs-guard.js';
export { encodedPathProblem, FsScope, realLocation } from './guards/fs/fs-paths.js';
export type { FsPolicy } from './guards/fs/fs-policy.js';
export { DEFAULT_PROTECTED } from './guards/fs/fs-policy.js';
export type { Guard, GuardFinding } from './guards/guard.js';
export { createHttpGuard } from './guards/http/http-guard.js';
export type { HttpPolicy } from './guards/http/http-policy.js';
export { compileHttp, inspectUrl } from './guards/http/url-checks.js';
export { compileShell, createShellGuard } from './guards/shell/shell-guard.js';
export { loadShellParser } from './guards/shell/shell-parser.js';
export type { ShellPolicy } from './guards/shell/shell-policy.js';
export type { QueryOptions, SqlResult } from './guards/sql/pg-database.js';
export { PgDatabase } from './guards/sql/pg-database.js';
export type { SqlDatabase, SqlOutput } from './guards/sql/sql-executor.js';
export { openDatabases, sqlExecutor } from './guards/sql/sql-executor.js';
export { sqlGuard } from './guards/sql/sql-guard.js';
export type { SqlDatabaseConfig, SqlPolicy } from './guards/sql/sql-policy.js';
export { SqliteDatabase } from './guards/sql/sqlite-database.js';
export type { Evidence, EvidenceCheck } from './incident/evidence.js';
export { preserveEvidence, verifyEvidence } from './incident/evidence.js';
export type { OverrideChange, OverrideState } from './incident/overrides.js';
export { Overrides } from './incident/overrides.js';
export type { Prevention, Proposal, ProposedRate, RateProposal } from './incident/prevent.js';
export { proposePrevention } from './incident/prevent.js';
export { reportHtml, reportMarkdown } from './incident/render.js';
export type { IncidentReport } from './incident/report.js';
export { buildIncidentReport } from './incident/report.js';
export { ALL_AGENTS, KillSwitch } from './killswitch/kill-switch.js';
export type { BudgetResult, LimitsBackend, RateResult, RateSpec } from './limits/backend.js';
export { BackendUnavailableError } from './limits/backend.js';
export { memoryBackend } from './limits/backends/memory-backend.js';
export { buildLimiters } from './limits/build-limiters.js';
export type { Estimate, Usage } from './limits/cost.js';
export { CostModel, usageOf } from './limits/cost.js';
export type { Limiter, LimitUsage, Reservation } from './limits/limiter.js';
export type { LimitsConfig } from './limits/limits-policy.js';
export { openLimitsBackend } from './limits/open-backend.js';
export type { ModelPrice, PriceLookup } from './limits/prices.js';
export { PRICE_TABLE, PRICES_AS_OF, PRICES_SOURCE, priceLookup } from './limits/prices.js';
export type { LimitsView } from './limits/usage.js';
export { limitsView } from './limits/usage.js';
export { McpGateway, NAMESPACE_SEPARATOR, refusal as mcpRefusal } from './mcp/gateway.js';
export { pinnedDefinition, ToolPins } from './mcp/pins.js';
export { FILESYSTEM_PRESET, unmappedType } from './mcp/tool-mapping.js';
export { Upstream, type UpstreamSpec } from './mcp/upstream.js';
export type { Alert, AlertDelivery, AlertSink, AlertStore } from './monitor/alerts/alert.js';
export { MemoryAlertStore } from './monitor/alerts/alert.js';
export { AlertDispatcher } from './monitor/alerts/dispatcher.js';
export { createSink, signWebhook } from './monitor/alerts/sinks.js';
export type { Anomaly, AnomalyCode } from './monitor/anomalies.js';
export { AnomalyDetector } from './monitor/anomalies.js';
export { Metrics } from './monitor/metrics.js';
export type { LimitTightener, TightenRequest } from './monitor/monitor.js';
export { Monitor, monitorOf } from './monitor/monitor.js';
export type { MonitoringConfig } from './monitor/monitor-policy.js';
export { redact } from './monitor/redact.js';
export type { AddressClass, LookupFn } from './net/addresses.js';
export { classifyAddress, resolveVetted, SsrfError } from './net/addresses.js';
export type { Context, Stage } from './pipeline/context.js';
export type { DecisionEvent, PipelineObserver, ResultEvent, StageTiming } from './pipeline/observer.js';
export { Submissions } from './pipeline/submissions.js';
export type { RunOptions, RunResult, RunStatus, WardenOptions } from './pipeline/warden.js';
export { createWarden, Warden } from './pipeline/warden.js';
export type { CompiledPolicy } from './policy/compile.js';
export { loadPolicyFile, parsePolicyText, policyFromObject } from './policy/load.js';
export type { PolicyIssue } from './policy/policy-error.js';
export { formatIssue, PolicyError } from './policy/policy-error.js';
export type { PolicyConfig, PolicyInput } from './policy/schema.js';
export { codeExecutor, sandboxChoiceFor, shellExecutor } from './sandbox/assemble-sandbox.js';
export { BwrapSandbox, createBwrapSandbox } from './sandbox/bwrap-sandbox.js';
export type { SandboxChoice } from './sandbox/choose-sandbox.js';
export { chooseSandbox } from './sandbox/choose-sandbox.js';
export { createDockerSandbox, DockerSandbox } from './sandbox/docker-sandbox.js';
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
export type { SandboxPolicy, SandboxPolicyInput } from './sandbox/sandbox-policy.js';
export { SandboxPolicySchema } from './sandbox/sandbox-policy.js';
export { createApp } from './server/app.js';
export { startServer } from './server/serve.js';
export type { Principal, Role } from './server/tokens.js';
export { createToken, hashToken, loadTokens, TokenRegistry } from './server/tokens.js';
export type { SqlAnalysis, SqlClass, SqlDialect, SqlFinding, SqlOperation } from './sql/sql-analysis.js';
export { analyzeSql, loadSqlParser } from './sql/sql-analysis.js';
export { MemoryStore } from './store/memory/memory-store.js';
export { openSqliteStore, SqliteStore } from './store/sqlite/sqlite-store.js';
export type * from './store/store.js';
export { StoreConflictError, StoreNotFoundError } from './store/store.js';
export { validateAction } from './validate/validate.js';
