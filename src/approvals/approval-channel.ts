import type { ApprovalRecord } from '../store/store.js';

/**
 * Tells humans that an action waits for them (dashboard, CLI, Slack, webhook, …). Votes come back
 * through `Approvals.vote`, whatever the channel. A channel that fails to notify does not release
 * the action: it stays pending until it is decided elsewhere or expires.
 */
export interface ApprovalChannel {
  readonly name: string;
  notify(request: ApprovalRecord): void | Promise<void>;
  /** Optional: told when a request is approved, denied or expired (e.g. to update a Slack message). */
  decided?(request: ApprovalRecord): void | Promise<void>;
}

/** Calls a function for each request: the simplest channel, for scripts and tests. */
export class CallbackChannel implements ApprovalChannel {
  readonly name: string;
  constructor(
    private readonly onRequest: (request: ApprovalRecord) => void | Promise<void>,
    name = 'callback',
  ) {
    this.name = name;
  }
  notify(request: ApprovalRecord): void | Promise<void> {
    return this.onRequest(request);
  }
}

/** Writes one line per request to a stream (stderr by default) with the command that decides it. */
export class LogChannel implements ApprovalChannel {
  readonly name = 'log';
  constructor(private readonly write: (line: string) => void = (line) => process.stderr.write(`${line}\n`)) {}
  notify(r: ApprovalRecord): void {
    this.write(
      `approval needed: ${r.id} — ${r.agent} wants ${r.action.type} (${r.decision.risk} risk), ${r.required} approver(s) from ${r.roles.join('/')}; decide with \`warden approvals approve ${r.id}\` or \`warden approvals deny ${r.id}\` before ${r.expiresAt}`,
    );
  }
}
