import type { Action } from '../contract/action.js';
import type { Decision, Reason } from '../contract/decision.js';
import { AUDIT_VIEW } from '../contract/records.js';
import type { Execution } from '../execute/execute.js';
import { USD } from '../limits/backend.js';
import type { Actual, Estimate } from '../limits/cost.js';
import type { Context } from '../policy/context.js';

export { AUDIT_VIEW } from '../contract/records.js';

import type { AuditEntry } from '../store/store.js';
import { newActionId } from '../validate/validate.js';

/** Turns a finished context into the contract Decision (SPEC §3). */
export function buildDecision(ctx: Context, denied: Reason | undefined): Decision {
  const id = ctx.action?.id ?? inputId(ctx.input);
  if (denied) {
    // A deny keeps what raised the risk, not what would have allowed it.
    const context = ctx.reasons.filter(
      (r) => r.stage === 'risk' || r.stage === 'guards' || r.stage === 'taint',
    );
    const decision: Decision = { id, effect: 'deny', risk: ctx.risk, reasons: [denied, ...context] };
    if (ctx.rule !== undefined) decision.rule = ctx.rule;
    if (denied.guard !== undefined) decision.guard = denied.guard;
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

/**
 * The audit entry of a decision, written before anything executes. `estimate` (the limits
 * stage's pricing of the action, when it was priced) is recorded as `data.estimate`.
 */
export function decisionEntry(
  action: Action | undefined,
  input: unknown,
  decision: Decision,
  estimate?: Estimate | { unpriced: string },
): AuditEntry {
  const given = (input as { agent?: unknown } | null)?.agent;
  const agent = action?.agent ?? (typeof given === 'string' && given.length <= 200 ? given : undefined);
  const priced = estimate && 'micros' in estimate && estimate.via !== 'none' ? estimate : undefined;
  // Assigned rather than spread (same keys, same order): one entry per decision, no throwaway objects.
  const data: Record<string, unknown> = {
    action: action ? actionSummary(action) : unvalidated(input),
    decision,
  };
  if (priced) data.estimate = estimateData(priced);
  return typeof agent === 'string'
    ? { type: 'decision', agent, actionId: decision.id, data }
    : { type: 'decision', actionId: decision.id, data };
}

/** The audit entry of an action `run()` executed; `actual` is its cost, when known (`data.actual`). */
export function resultEntry<T>(action: Action, execution: Execution<T>, actual?: Actual): AuditEntry {
  const data: Record<string, unknown> = {
    status: execution.status,
    durationMs: Math.round(execution.durationMs * 1000) / 1000,
  };
  if (execution.status === 'completed') data.output = summarize(execution.output);
  else data.reason = execution.reason;
  if (actual) data.actual = actualData(actual);
  return { type: 'result', agent: action.agent, actionId: action.id, data };
}

/** A decision record's `data.estimate`: what the action was expected to cost, and how that was worked out. */
export interface EstimateData {
  usd: number;
  via: 'usd' | 'tokens';
  model?: string;
  inputTokens?: number;
  outputTokens?: number;
}

/** A result record's `data.actual`: what the action cost, from the provider's usage or the reported `cost.usd`. */
export interface ActualData {
  usd: number;
  via: 'usage' | 'reported';
  model?: string;
  inputTokens?: number;
  cachedInputTokens?: number;
  outputTokens?: number;
}

function estimateData(e: Estimate): EstimateData {
  return {
    usd: e.micros / USD,
    via: e.via === 'tokens' ? 'tokens' : 'usd',
    ...(e.model === undefined ? {} : { model: e.model }),
    ...(e.inputTokens === undefined ? {} : { inputTokens: e.inputTokens }),
    ...(e.outputTokens === undefined ? {} : { outputTokens: e.outputTokens }),
  };
}

export function actualData(a: Actual): ActualData {
  const u = a.usage;
  return {
    usd: a.micros / USD,
    via: a.via,
    ...(u?.model === undefined ? {} : { model: u.model }),
    ...(u
      ? { inputTokens: u.inputTokens, cachedInputTokens: u.cachedInputTokens, outputTokens: u.outputTokens }
      : {}),
  };
}

/**
 * What a decision record says the action would cost: its `data.estimate`, or, in records written
 * before estimates were recorded, the `cost.usd` the action carried.
 */
export function recordedEstimateUsd(data: {
  estimate?: { usd?: unknown };
  action?: { cost?: { usd?: unknown } };
}): number | undefined {
  return usdOf(data.estimate?.usd) ?? usdOf(data.action?.cost?.usd);
}

/**
 * What an executed action cost, read from its result record's data and its decision's estimate
 * (`recordedEstimateUsd`): the actual cost (`data.actual`, or an agent's reported `data.cost` in
 * records written before it), else the estimate. INVARIANT: the one reading of spend — the
 * monitor's spend metric and cost-spike detector and the incident report all use it, and it
 * matches what budgets settle with (`CostModel.actualCost`, else the hold).
 */
export function recordedCostUsd(
  result: { actual?: { usd?: unknown }; cost?: { usd?: unknown } },
  estimateUsd: number | undefined,
): number | undefined {
  return usdOf(result.actual?.usd) ?? usdOf(result.cost?.usd) ?? estimateUsd;
}

function usdOf(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

/**
 * An input that was not validated (refused before validation, e.g. by the kill switch, or invalid):
 * its type and bounded params are kept when present, so an incident report can show what was attempted.
 * INVARIANT: the summary can always be recorded, whatever the input held (a non-finite number,
 * nesting the audit's canonical JSON refuses, a cycle): the decision on it must reach the audit.
 */
function unvalidated(input: unknown): Record<string, unknown> {
  const i = input as { type?: unknown; params?: unknown } | null;
  const out: Record<string, unknown> = { invalid: true };
  if (typeof i?.type === 'string' && i.type.length <= 200) out.type = i.type;
  if (typeof i?.params === 'object' && i.params !== null) out.params = summarize(recordable(i.params, 0));
  return out;
}

/** How deep an unvalidated input is kept; below, a marker says what was cut. */
const SUMMARY_DEPTH = 8;
/** Entries kept per object or array of an unvalidated input. */
const SUMMARY_ENTRIES = 100;

/**
 * A JSON-safe copy of `value`: non-finite numbers and bigints become strings that say what they
 * were, nesting stops at {@link SUMMARY_DEPTH} with a marker, and objects and arrays keep their
 * first {@link SUMMARY_ENTRIES} entries (a marker counts the rest).
 */
function recordable(value: unknown, depth: number): unknown {
  if (typeof value === 'number') return Number.isFinite(value) ? value : `[not a finite number: ${value}]`;
  if (typeof value === 'bigint') return `[bigint: ${value}]`;
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null || typeof value !== 'object') return value;
  if (depth >= SUMMARY_DEPTH) return `[nested deeper than ${SUMMARY_DEPTH} levels: cut]`;
  if (Array.isArray(value)) {
    const items = value.slice(0, SUMMARY_ENTRIES).map((v) => recordable(v, depth + 1) ?? null);
    if (value.length > SUMMARY_ENTRIES) items.push(`[${value.length - SUMMARY_ENTRIES} more items]`);
    return items;
  }
  const keys = Object.keys(value);
  const out: Record<string, unknown> = {};
  for (const key of keys.slice(0, SUMMARY_ENTRIES)) {
    const v = recordable((value as Record<string, unknown>)[key], depth + 1);
    if (v !== undefined) out[key] = v;
  }
  if (keys.length > SUMMARY_ENTRIES) out['…'] = `[${keys.length - SUMMARY_ENTRIES} more keys]`;
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
