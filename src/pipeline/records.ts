import type { Action } from '../action/action.js';
import type { Decision, Reason } from '../decision/decision.js';
import type { Execution } from '../execute/execute.js';
import type { AuditEntry } from '../store/store.js';
import { newActionId } from '../validate/validate.js';
import type { Context } from './context.js';

/** Turns a finished context into the contract Decision (SPEC §3). */
export function buildDecision(ctx: Context, denied: Reason | undefined): Decision {
  const id = ctx.action?.id ?? inputId(ctx.input);
  if (denied) {
    // A deny keeps what raised the risk, not what would have allowed it.
    const context = ctx.reasons.filter((r) => r.stage === 'risk' || r.stage === 'guards');
    const decision: Decision = { id, effect: 'deny', risk: ctx.risk, reasons: [denied, ...context] };
    if (ctx.rule !== undefined) decision.rule = ctx.rule;
    return decision;
  }
  const decision: Decision = { id, effect: ctx.effect, risk: ctx.risk, reasons: ctx.reasons };
  if (ctx.rule !== undefined) decision.rule = ctx.rule;
  if (ctx.effect === 'ask' && ctx.approvals) decision.approvals = ctx.approvals;
  return decision;
}

function inputId(input: unknown): string {
  const id = (input as { id?: unknown } | null)?.id;
  return typeof id === 'string' && id.length > 0 && id.length <= 200 ? id : newActionId();
}

/** The audit entry of a decision, written before anything executes. */
export function decisionEntry(action: Action | undefined, input: unknown, decision: Decision): AuditEntry {
  const agent = action?.agent ?? (input as { agent?: unknown } | null)?.agent;
  return {
    type: 'decision',
    ...(typeof agent === 'string' ? { agent } : {}),
    actionId: decision.id,
    data: {
      action: action ? actionSummary(action) : unvalidated(input),
      decision,
    },
  };
}

export function resultEntry<T>(action: Action, execution: Execution<T>): AuditEntry {
  const data: Record<string, unknown> = {
    status: execution.status,
    durationMs: Math.round(execution.durationMs * 1000) / 1000,
  };
  if (execution.status === 'completed') data.output = summarize(execution.output);
  else data.reason = execution.reason;
  return { type: 'result', agent: action.agent, actionId: action.id, data };
}

/**
 * An input that was not validated (refused before validation, e.g. by the kill switch, or invalid):
 * its type and bounded params are kept when present, so an incident report can show what was attempted.
 */
function unvalidated(input: unknown): Record<string, unknown> {
  const i = input as { type?: unknown; params?: unknown } | null;
  const out: Record<string, unknown> = { invalid: true };
  if (typeof i?.type === 'string' && i.type.length <= 200) out.type = i.type;
  if (typeof i?.params === 'object' && i.params !== null) out.params = summarize(i.params);
  return out;
}

function actionSummary(action: Action): Record<string, unknown> {
  const out: Record<string, unknown> = { type: action.type, params: action.params };
  if (action.user !== undefined) out.user = action.user;
  if (action.session !== undefined) out.session = action.session;
  if (action.description !== undefined) out.description = action.description;
  if (action.cost !== undefined) out.cost = action.cost;
  return out;
}

const MAX_OUTPUT_CHARS = 4096;

/**
 * An output may say how it is audited: `output[AUDIT_VIEW]()` returns the bounded summary to
 * record (a sandbox result keeps its exit code, limits and violations and only a prefix of its
 * streams). Symbol keys stay out of the JSON the agent receives.
 */
export const AUDIT_VIEW: unique symbol = Symbol.for('warden.auditView');

/** Results are audited, but bounded: large outputs keep their size and a prefix. */
export function summarize(output: unknown): unknown {
  if (output === undefined || output === null) return null;
  if (typeof output === 'boolean' || (typeof output === 'number' && Number.isFinite(output))) return output;
  if (typeof output === 'string' && output.length <= MAX_OUTPUT_CHARS / 2) return output;
  if (typeof output === 'object' && AUDIT_VIEW in output)
    return summarize((output as { [AUDIT_VIEW]: () => unknown })[AUDIT_VIEW]());
  // Anything else goes through JSON once: bounded, and a NaN or a function cannot break the record.
  let text: string;
  try {
    text = JSON.stringify(output) ?? 'null';
  } catch {
    return { unserializable: true, kind: typeof output };
  }
  if (text.length <= MAX_OUTPUT_CHARS) return JSON.parse(text) as unknown;
  return { truncated: true, bytes: text.length, prefix: text.slice(0, MAX_OUTPUT_CHARS) };
}
