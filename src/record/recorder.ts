import type { AuditLog } from '../audit/audit-log.js';
import type { Decision, Reason } from '../contract/decision.js';
import type { DecisionEvent, PipelineObserver, ResultEvent } from '../contract/observer.js';
import type { AuditEntry } from '../contract/records.js';
import type { Context, Stage } from '../policy/context.js';

/** Hears about a stage that crashed (it already denied); Warden's default writes a JSON line to stderr. */
export type CrashReporter = (stage: Pick<Stage, 'name'>, error: unknown) => void;

/**
 * The record stage (SPEC §1, stage 10, and the record that precedes execution): appends audit
 * entries durably and tells the pipeline's observer (logs, metrics, traces) what was decided.
 *
 * INVARIANT: `append` resolves to a Reason when the entry is not durable, and the caller then
 * fails closed (nothing executes on an unrecorded decision). An observer that throws is reported
 * through `onCrash` and never changes a decision.
 */
export class Recorder {
  constructor(
    private readonly audit: AuditLog,
    readonly observer: PipelineObserver | undefined,
    private readonly onCrash: CrashReporter,
  ) {}

  /** Turns on stage timing for `ctx` when an observer watches; returns the pipeline's start time. */
  begin(ctx: Context): number {
    if (!this.observer) return 0;
    ctx.timings = [];
    return performance.now();
  }

  /**
   * Appends durably; a Reason when the record could not be written (the caller fails closed).
   * `later`: the entry rides the next commit made for another record (see `AuditLog.appendLater`).
   */
  append(entry: AuditEntry, when: 'now' | 'later' = 'now'): Promise<Reason | undefined> {
    // One `then` rather than an async function: one promise less on every decision.
    try {
      const appended = when === 'later' ? this.audit.appendLater(entry) : this.audit.append(entry);
      return appended.then(recorded, this.#unrecorded);
    } catch (error) {
      return Promise.resolve(this.#unrecorded(error));
    }
  }

  readonly #unrecorded = (error: unknown): Reason => {
    this.onCrash({ name: 'record' }, error);
    // A store that cannot be reached says so (`store.unavailable`): it is not this record's fault.
    const unreachable = (error as { code?: unknown } | null)?.code === 'store.unavailable';
    return {
      code: unreachable ? 'store.unavailable' : 'record.unavailable',
      stage: 'record',
      message: `the audit record could not be written (${String(error)}); nothing was executed`,
    };
  };

  /** Tells the observer a decision is final; the event, for the result that may follow. */
  decided(
    mode: DecisionEvent['mode'],
    ctx: Context,
    decision: Decision,
    start: number,
  ): DecisionEvent | undefined {
    if (!this.observer) return undefined;
    const event: DecisionEvent = {
      mode,
      input: ctx.input,
      action: ctx.action,
      decision,
      start,
      end: performance.now(),
      stages: ctx.timings ?? [],
    };
    try {
      this.observer.decided(event);
    } catch (error) {
      this.onCrash({ name: 'record' }, error);
    }
    return event;
  }

  /** Tells the observer how a run that was not denied at once ended. */
  finished(event: ResultEvent): void {
    try {
      this.observer?.finished(event);
    } catch (error) {
      this.onCrash({ name: 'record' }, error);
    }
  }
}

function recorded(): undefined {
  return undefined;
}

/** A decision that could not be recorded: denied, with the record's reason first. */
export function recordFailure(decision: Decision, reason: Reason): Decision {
  return { ...decision, effect: 'deny', reasons: [reason, ...decision.reasons] };
}

/** One observer for several (none: no observer, so nothing is timed). */
export function observerOf(observers: readonly PipelineObserver[]): PipelineObserver | undefined {
  if (observers.length <= 1) return observers[0];
  return {
    decided: (e) => {
      for (const o of observers) o.decided(e);
    },
    finished: (e) => {
      for (const o of observers) o.finished(e);
    },
  };
}

/** The default crash report: one JSON line on stderr, loud enough to be seen in any log. */
export function reportCrash(stage: string, error: unknown): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(
    `${JSON.stringify({ level: 'error', msg: 'warden stage crashed; denied (fail closed)', stage, error: detail })}\n`,
  );
}
