import { z } from 'zod';
import { WardenError } from './errors.js';

/**
 * SPEC §2b (contract): content that entered an agent's context (a tool result, a web page, a
 * file, an email, a user message). Warden learns it so that later actions of the same session
 * are judged by what the agent has read. Unknown fields are refused, as for actions.
 */
export const ObservationSchema = z
  .object({
    agent: z.string().min(1, 'expected a non-empty agent name').max(200),
    session: z.string().min(1, 'expected the session (run or conversation id) the content entered').max(200),
    source: z
      .string()
      .min(1, 'expected where the content came from, such as `http:https://host/path`, `fs:/path` or `user`')
      .max(2000),
    content: z.string().max(4_000_000, 'expected at most 4,000,000 characters of content'),
    trust: z.enum(['trusted', 'untrusted']).optional(),
  })
  .strict();

export type Observation = z.infer<typeof ObservationSchema>;
export type Trust = 'trusted' | 'untrusted';

/**
 * Labels a session carries: `untrusted` once untrusted content entered it, `injection` once a
 * detector found instruction-like content in it (with `injection:<category>`), `secret` once a
 * secret was seen.
 */
export type TaintLabel = 'untrusted' | 'injection' | 'secret' | `injection:${string}`;

/** What a detector found in one observation. */
export interface ContentFinding {
  /** `injection` or `secret`. */
  label: 'injection' | 'secret';
  /** The class of finding: `override`, `role-play`, `hidden`, `encoded`, `tool-call`, `invisible-unicode`, `exfil-url`, `aws-key`, … */
  category: string;
  /** A short description, never the matched text itself beyond a bounded excerpt. */
  message: string;
}

/**
 * One observation as Warden keeps it (the store's `observations`, the audit of the session).
 * The content itself is kept only when the policy says so (`untrusted.keepContent`); otherwise
 * its digest and the hashes of the values it holds (what argument provenance compares with).
 */
export interface ObservationRecord {
  /** Assigned by the store, increasing. */
  seq?: number;
  agent: string;
  session: string;
  source: string;
  trust: Trust;
  /** SHA-256 (hex) of the content. */
  digest: string;
  /** Content length in characters. */
  length: number;
  findings: ContentFinding[];
  /** The session's labels this observation added (`untrusted`, `injection`, `injection:override`, `secret`). */
  labels: string[];
  /**
   * Keyed hashes of the normalised values the content holds (hosts, URLs, paths, e-mail
   * addresses, IBANs, phone numbers, tokens), for argument provenance after a restart or in
   * another process. Each is `kind:hex`.
   */
  values: string[];
  at: string;
  /** The text, only when the policy keeps it. */
  content?: string;
}

/**
 * A read-only view of a session's labels, for stages that match on what the session has read
 * (flow rules: `after: { source: "http:*", label: injection }`).
 */
export interface SessionTaintView {
  readonly labels: ReadonlySet<string>;
  /** Sources of the session's observations that carry `label` (all untrusted sources when undefined). */
  sourcesWith(label?: string): readonly string[];
}

/** The `facts` key under which the taint stage leaves the session's {@link SessionTaintView} for later stages. */
export const SESSION_TAINT_FACT = 'taint.session';

/** An observation that cannot be learnt (`validate.invalid`): the message names the field. */
export class ObservationError extends WardenError {
  override readonly name = 'ObservationError';
  declare readonly code: 'validate.invalid';
  constructor(message: string) {
    super('validate.invalid', message, {
      hint: 'an observation is { agent, session, source, content, trust? } (SPEC §2b)',
    });
  }
}
