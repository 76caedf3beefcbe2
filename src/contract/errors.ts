import type { StageName } from './decision.js';

/*
 * Every error Warden throws on purpose extends `WardenError` and carries a stable, dotted `code`.
 * Codes are part of the contract, like reason codes: callers branch on them, so a code is never
 * renamed; a new failure gets a new code. Messages stay free to improve.
 */

/** `approval.*`: a vote that cannot be counted (`ApprovalError`). */
export type ApprovalErrorCode =
  | 'approval.not-found'
  | 'approval.not-pending'
  | 'approval.expired'
  | 'approval.digest-mismatch'
  | 'approval.self-approval'
  | 'approval.role-not-allowed'
  | 'approval.duplicate-vote';

/** `action.*`: a step of the submit → report flow that is refused (`SubmissionError`). */
export type SubmissionErrorCode =
  | 'action.not-found'
  | 'action.wrong-agent'
  | 'action.not-allowed'
  | 'action.duplicate-id'
  | 'action.ambiguous-id'
  | 'action.withdrawn';

/** A run the sandbox refused before it started (`SandboxError`). */
export type SandboxErrorCode =
  | 'sandbox.unavailable'
  | 'sandbox.invalid'
  | 'sandbox.limit-unenforceable'
  | 'sandbox.error'
  | 'execute.aborted';

/** `mcp.pin-*`: an admin's approval of a tool definition that cannot be applied (`PinError`). */
export type PinErrorCode = 'mcp.pin-not-found' | 'mcp.pin-nothing-pending' | 'mcp.pin-digest-mismatch';

/**
 * What the URL checks refuse (the http guard's findings). The HTTP executor re-applies them on
 * every hop, so they are also `HttpExecutionError` codes.
 */
export type UrlCheckCode =
  | 'http.invalid-url'
  | 'http.scheme-not-allowed'
  | 'http.userinfo'
  | 'http.ssrf-blocked'
  | 'http.host-denied'
  | 'http.host-not-allowed'
  | 'http.secret-in-url'
  | 'http.sensitive-endpoint';

/** A request the HTTP executor refused or could not complete (`HttpExecutionError`). */
export type HttpErrorCode =
  | UrlCheckCode
  | 'http.redirect-refused'
  | 'http.too-many-redirects'
  | 'http.unresolved'
  | 'http.timeout'
  | 'http.response-too-large';

/** Why a path is refused before or while it is resolved (the fs guard's path problems). */
export type PathProblemCode =
  | 'fs.encoded-path'
  | 'fs.nul-byte'
  | 'fs.relative-path'
  | 'fs.hard-link'
  | 'fs.symlink-escape'
  | 'fs.protected';

/** A refusal by the fs executors themselves (`FsRefusal`). */
export type FsErrorCode =
  | PathProblemCode
  | 'fs.outside-root'
  | 'fs.invalid-path'
  | 'fs.unresolvable'
  | 'fs.not-a-file'
  | 'fs.too-large';

/** A limits backend that cannot answer (`limits.unavailable`) or cannot be opened as configured. */
export type LimitsErrorCode = 'limits.unavailable' | 'limits.invalid-config';

/** A record store write that contradicts what is stored, or a store that cannot be reached. */
export type StoreErrorCode = 'store.conflict' | 'store.not-found' | 'store.unavailable';

/** Every code a `WardenError` can carry. */
export type WardenErrorCode =
  | ApprovalErrorCode
  | SubmissionErrorCode
  | SandboxErrorCode
  | PinErrorCode
  | HttpErrorCode
  | FsErrorCode
  | LimitsErrorCode
  | StoreErrorCode
  // A policy that cannot be used (`PolicyError`).
  | 'policy.invalid'
  // A CLI failure the user can fix (`CliError`).
  | 'cli.failed'
  // A tool call Warden refused, thrown by the AI SDK adapter, `warden/ai` (`WardenRefusal`).
  | 'action.refused'
  // A request the HTTP server cannot read (`BadRequest`, `warden/server`).
  | 'validate.invalid';

/** What a `WardenError` carries besides its code and message. */
export interface WardenErrorOptions {
  /** The pipeline stage the error concerns, when there is one. */
  stage?: StageName | undefined;
  /** What to do about it, when the message does not already say. */
  hint?: string | undefined;
  /** The underlying error. */
  cause?: unknown;
}

// Symbol.for, so that an error thrown by a second copy of Warden in the same process (a bundled
// adapter, two versions in node_modules) is still recognised, where `instanceof` is not.
const BRAND = Symbol.for('warden.error');

/**
 * The base of every error Warden throws on purpose. `code` is stable and dotted; `name` is the
 * subclass (`ApprovalError`, `PolicyError`, …); `stage` names the pipeline stage when the error
 * belongs to one.
 *
 * @example
 * try {
 *   await approvals.vote({ id, approver: 'alice', role: 'approver', vote: 'approve', channel: 'api', digest });
 * } catch (error) {
 *   if (isWardenError(error) && error.code === 'approval.self-approval') return forbidden(error.message);
 *   throw error;
 * }
 */
export class WardenError extends Error {
  readonly code: WardenErrorCode;
  declare readonly stage?: StageName;
  declare readonly hint?: string;

  constructor(code: WardenErrorCode, message: string, options: WardenErrorOptions = {}) {
    // Only a given cause becomes a property (`{ cause: undefined }` would add an empty one).
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = new.target.name;
    this.code = code;
    // Set only when given (the fields are `declare`d): an absent stage is no property at all, so
    // duck-typed checks for a Reason-like `{ code, stage, message }` do not match every error.
    if (options.stage !== undefined) this.stage = options.stage;
    if (options.hint !== undefined) this.hint = options.hint;
  }
}
Object.defineProperty(WardenError.prototype, BRAND, { value: true });

/**
 * Whether `error` is a `WardenError`, including one from another copy of Warden in the process.
 *
 * @example
 * if (isWardenError(error)) log.warn({ code: error.code, stage: error.stage }, error.message);
 */
export function isWardenError(error: unknown): error is WardenError {
  return (
    error instanceof WardenError ||
    (error instanceof Error && (error as unknown as Record<symbol, unknown>)[BRAND] === true)
  );
}
