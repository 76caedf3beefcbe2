import type { Reason } from '../contract/decision.js';
import { WardenError } from '../contract/errors.js';
import type { RunResult, Warden } from '../pipeline/warden.js';
import type { ApprovalRecord } from '../store/store.js';

/** The action a framework tool call becomes. */
export interface ToolAction {
  type: string;
  params: Record<string, unknown>;
}

/** Who approves in the framework's own approval flow (a vote cast in Warden in their name). */
export interface FrameworkApprover {
  name: string;
  role: 'approver' | 'admin';
}

export interface AdapterOptions {
  warden: Warden;
  /** The agent the calls act for (a name in the policy). */
  agent: string;
  user?: string;
  session?: string;
  /**
   * The action each tool call becomes. Default: `tool.<name>` (lowercased, other characters as
   * `_`) with the tool's input (an object) as params, or `{ input }` for a non-object input.
   */
  actionFor?: (toolName: string, input: unknown) => ToolAction;
  /**
   * Cast in Warden when the framework's own approval flow approved a call Warden asked about. Left
   * out, the call waits for approval through Warden's API (dashboard or CLI) instead.
   */
  approver?: FrameworkApprover;
  /**
   * Tell Warden what each tool returned (SPEC §2b), as an observation of source
   * `tool:<name>` in `session`, so that later calls are judged by what the model read. Default
   * true when `session` is set (observations need a session).
   */
  observeResults?: boolean;
  /**
   * Output review of tool results (`secrets.review`, for the kinds `secrets.toolResults` names:
   * secrets only by default): strings in a completed call's output come back redacted, and a
   * result the policy denies or asks about is refused (`output.<kind>`), since no one can be
   * asked mid-call. Default true.
   */
  reviewResults?: boolean;
}

export function defaultToolType(name: string): string {
  return `tool.${name.toLowerCase().replace(/[^a-z0-9_-]/g, '_') || '_'}`;
}

export function actionOf(options: AdapterOptions, toolName: string, input: unknown) {
  const mapped = options.actionFor?.(toolName, input) ?? {
    type: defaultToolType(toolName),
    params:
      input !== null && typeof input === 'object' && !Array.isArray(input)
        ? { ...(input as Record<string, unknown>) }
        : { input },
  };
  return {
    agent: options.agent,
    type: mapped.type,
    params: mapped.params,
    description: `tool \`${toolName}\``,
    ...(options.user ? { user: options.user } : {}),
    ...(options.session ? { session: options.session } : {}),
  };
}

/** The text a model reads when Warden refuses a call. */
export function refusalText(reason: Reason | undefined): string {
  if (!reason) return 'Refused by Warden.';
  return `Refused by Warden (${reason.code}): ${reason.message}`;
}

/**
 * Thrown from a wrapped tool's execute when Warden refuses (`action.refused`; `reason.code` says
 * why); frameworks pass its message to the model.
 */
export class WardenRefusal extends WardenError {
  override readonly name = 'WardenRefusal';
  declare readonly code: 'action.refused';
  constructor(readonly reason: Reason | undefined) {
    super('action.refused', refusalText(reason), { stage: reason?.stage });
  }
}

/** Whether Warden would ask a human about this call (no side effects). */
export async function needsApproval(
  options: AdapterOptions,
  toolName: string,
  input: unknown,
): Promise<boolean> {
  return (await options.warden.check(actionOf(options, toolName, input))).effect === 'ask';
}

/**
 * Runs one tool call through the whole pipeline with the framework's `execute` as executor. When
 * the framework already approved (`approvedInFramework`) and an approver is configured, a vote is
 * cast in their name as soon as Warden's approval request exists.
 */
export async function runTool<T>(
  options: AdapterOptions,
  toolName: string,
  input: unknown,
  execute: (signal: AbortSignal) => T | Promise<T>,
  context: { signal?: AbortSignal; approvedInFramework?: boolean; channel: string },
): Promise<RunResult<T>> {
  const { warden, approver } = options;
  const vote = (request: ApprovalRecord) => {
    if (!context.approvedInFramework || !approver) return;
    warden.approvals
      .vote({
        id: request.id,
        approver: approver.name,
        role: approver.role,
        vote: 'approve',
        channel: context.channel,
      })
      .catch((error: unknown) =>
        process.emitWarning(`casting the ${context.channel} approval in Warden failed: ${String(error)}`),
      );
  };
  const result = await warden.run<T>(
    actionOf(options, toolName, input),
    (_action, { signal }) => execute(signal),
    {
      ...(context.signal ? { signal: context.signal } : {}),
      onApprovalRequested: vote,
    },
  );
  if (result.status !== 'completed') return result;
  // The model reads the reviewed result; Warden observes the result as the tool returned it, so
  // argument provenance knows every value the tool's content held.
  let reviewed = result;
  if (options.reviewResults !== false) {
    const r = reviewOutput(warden, result.output as T, { toolResult: true });
    if ('refused' in r) return { ...result, status: 'failed', reason: r.refused };
    reviewed = { ...result, output: r.output };
  }
  if (!options.session || options.observeResults === false) return reviewed;
  try {
    await warden.observe({
      agent: options.agent,
      session: options.session,
      source: `tool:${toolName}`,
      content: resultText(result.output),
    });
    return reviewed;
  } catch (error) {
    // INVARIANT: a result Warden could not learn does not reach the model (fail closed).
    const reason: Reason = {
      code: 'taint.observe-failed',
      stage: 'execute',
      message: `the result of tool \`${toolName}\` could not be recorded as read (${error instanceof Error ? error.message : String(error)}); it is withheld`,
    };
    return { decision: result.decision, status: 'failed', reason };
  }
}

/** A tool's result as the text a model reads. */
export function resultText(output: unknown): string {
  const text = typeof output === 'string' ? output : (JSON.stringify(output) ?? String(output));
  return text.length > 4_000_000 ? text.slice(0, 4_000_000) : text;
}

/**
 * A tool result or model output after output review: its strings redacted as `secrets.review`
 * says, or the reason it is refused (a kind the policy denies or asks about). An output with
 * nothing to redact comes back as the same object.
 *
 * @example
 * reviewOutput(warden, { text: 'key AKIA…' }) // → { output: { text: 'key [REDACTED:aws:…]' } }
 */
export function reviewOutput<T>(
  warden: Warden,
  output: T,
  options: { toolResult?: boolean } = {},
): { output: T } | { refused: Reason } {
  let refused: Reason | undefined;
  const walk = (value: unknown, depth: number): unknown => {
    if (refused) return value;
    if (typeof value === 'string') {
      const r = warden.review(value, options);
      if (r.effect === 'deny' || r.effect === 'ask') {
        const kinds = [...new Set(r.findings.filter((f) => f.effect === r.effect).map((f) => f.kind))];
        refused = {
          code: `output.${kinds[0] ?? 'secret'}`,
          stage: 'execute',
          message: `the result holds ${kinds.join(', ')}, which the policy does not let through (\`secrets.review\`)`,
        };
      }
      return r.text;
    }
    if (value === null || typeof value !== 'object' || depth > 16) return value;
    // Unchanged parts are returned as they are, so a clean output is the caller's own object.
    if (Array.isArray(value)) {
      const out = value.map((v) => walk(v, depth + 1));
      return out.some((v, i) => v !== value[i]) ? out : value;
    }
    if (Object.getPrototypeOf(value) !== Object.prototype) return value;
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(value)) {
      const r = walk(v, depth + 1);
      if (r === v) continue;
      out ??= { ...value };
      out[k] = r;
    }
    return out ?? value;
  };
  const reviewed = walk(output, 0) as T;
  return refused ? { refused } : { output: reviewed };
}
