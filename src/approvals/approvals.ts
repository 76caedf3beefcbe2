// One file because a request's whole life (request, vote, cancel, expire, wait) shares one store discipline and one change feed.
import { canonicalJson, sha256Hex } from '../audit/canonical-json.js';
import type { Action } from '../contract/action.js';
import type { Decision } from '../contract/decision.js';
import type { AuditSink } from '../contract/records.js';
import {
  type ApprovalRecord,
  type ApprovalStore,
  CHANGE_FEED_FALLBACK_MS,
  type ChangeFeed,
} from '../store/store.js';
import type { ApprovalChannel } from './approval-channel.js';
import { ApprovalError } from './approval-error.js';
import { checkVote, type VoteInput } from './check-vote.js';

export { ApprovalError } from './approval-error.js';
export { approvalReason } from './approval-reason.js';
export type { VoteInput } from './check-vote.js';

/** The digest an approval is bound to: SHA-256 of the canonical JSON of `{ type, params }`. */
export function actionDigest(action: Pick<Action, 'type' | 'params'>): string {
  return sha256Hex(canonicalJson({ type: action.type, params: action.params }));
}

const FINAL = new Set(['approved', 'denied', 'expired', 'cancelled']);

/**
 * The approval lifecycle: requests persisted in the store (so they survive a restart), M-of-N
 * distinct approvers with allowed roles, never the requesting agent or its user, expiry, and an
 * audit record for every request and vote.
 */
export class Approvals {
  constructor(
    private readonly store: ApprovalStore,
    private readonly audit: AuditSink,
    private readonly channels: readonly ApprovalChannel[] = [],
    private readonly now: () => number = Date.now,
  ) {}

  private readonly listeners = new Set<(record: ApprovalRecord) => void>();
  /** Waiters woken by a change another process announced: the id, or undefined for "re-read everything". */
  private readonly pokes = new Set<(id: string | undefined) => void>();
  private followed = false;

  /** True while {@link follow}ing a change feed: other processes' changes wake waiters at once. */
  get following(): boolean {
    return this.followed;
  }

  /**
   * Calls `listener` whenever a request changes state in this process (created, voted, decided,
   * expired, cancelled): long-polls and the dashboard wake on it instead of waiting for the next
   * poll. Changes made by another process sharing the store are seen through the store's change
   * feed ({@link follow}) or by polling. Returns an unsubscribe function.
   */
  onChange(listener: (record: ApprovalRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Wakes this process's waiters (`wait`, `nextChange`) when another process sharing the store
   * changes a request (a vote cast through another server): they re-read it at once instead of on
   * their next poll, which then only covers a lost notification. Returns a function that stops it.
   */
  follow(feed: ChangeFeed): () => void {
    this.followed = true;
    const off = feed.on('approvals', (reconnected, id) => {
      for (const poke of this.pokes) poke(reconnected ? undefined : id);
    });
    return () => {
      off();
      this.followed = false;
    };
  }

  /** Tells the channels that want to know (e.g. Slack updates its message); failures only warn. */
  private tellDecided(record: ApprovalRecord): void {
    for (const channel of this.channels) {
      if (!channel.decided) continue;
      Promise.resolve()
        .then(() => channel.decided?.(record))
        .catch((error: unknown) =>
          process.emitWarning(`approval channel ${channel.name} failed: ${String(error)}`),
        );
    }
  }

  private changed(record: ApprovalRecord): void {
    for (const listener of this.listeners) {
      try {
        listener(record);
      } catch (error) {
        process.emitWarning(`approval change listener failed: ${String(error)}`);
      }
    }
  }

  /** Stores and announces the approval request for `action` (the `run()` path). */
  async request(action: Action, decision: Decision, timeoutMs: number): Promise<ApprovalRecord> {
    const record = { ...this.prepare(action, decision, timeoutMs), via: 'run' as const };
    await this.store.create(record);
    await this.announce(record);
    return record;
  }

  /**
   * The request for `action`, not stored yet. `request` stores it; `Submissions` stores it in one
   * transaction with its action row (so a crash cannot leave a request whose action does not
   * exist), then calls `announce`. `id` defaults to `apr_` and the action id without `act_`.
   * The request is marked `via: 'submit'`; `request` marks its own `via: 'run'`.
   */
  prepare(action: Action, decision: Decision, timeoutMs: number, id?: string): ApprovalRecord {
    const created = this.now();
    return {
      id: id ?? `apr_${action.id.replace(/^act_/, '')}`,
      actionId: action.id,
      agent: action.agent,
      ...(action.user === undefined ? {} : { user: action.user }),
      digest: actionDigest(action),
      action,
      decision,
      required: decision.approvals?.required ?? 1,
      roles: decision.approvals?.roles ?? ['approver', 'admin'],
      status: 'pending',
      votes: [],
      createdAt: new Date(created).toISOString(),
      expiresAt: new Date(created + timeoutMs).toISOString(),
      via: 'submit',
    };
  }

  /** Audits a stored request (`approval.request`), wakes the listeners and notifies the channels. */
  async announce(record: ApprovalRecord): Promise<void> {
    await this.audit.append({
      type: 'approval.request',
      agent: record.agent,
      actionId: record.actionId,
      data: {
        approvalId: record.id,
        digest: record.digest,
        required: record.required,
        roles: record.roles,
        expiresAt: record.expiresAt,
      },
    });
    this.changed(record);
    for (const channel of this.channels) {
      // A failing channel is reported, never fatal: the request stays pending elsewhere.
      Promise.resolve()
        .then(() => channel.notify(record))
        .catch((error: unknown) =>
          process.emitWarning(`approval channel ${channel.name} failed: ${String(error)}`),
        );
    }
  }

  get(id: string): Promise<ApprovalRecord | undefined> {
    return this.store.get(id);
  }

  /** Requests in `status` (all when absent), oldest first unless `order` is `desc`; at most `limit` (100). */
  async list(
    status?: ApprovalRecord['status'],
    options: { order?: 'asc' | 'desc'; limit?: number } = {},
  ): Promise<ApprovalRecord[]> {
    await this.expireDue();
    return this.store.list({ ...(status ? { status } : {}), ...options });
  }

  /** Counts one vote. Throws `ApprovalError` when it cannot count; then nothing changes. */
  async vote(input: VoteInput): Promise<ApprovalRecord> {
    const at = this.now();
    let expired = false;
    let record: ApprovalRecord;
    try {
      record = await this.store.update(input.id, (current) => {
        if (FINAL.has(current.status)) {
          throw new ApprovalError(
            'approval.not-pending',
            `approval \`${input.id}\` is already ${current.status}`,
          );
        }
        if (Date.parse(current.expiresAt) <= at) {
          expired = true;
          return { ...current, status: 'expired', decidedAt: new Date(at).toISOString() };
        }
        checkVote(current, input);
        const votes = [
          ...current.votes,
          {
            approver: input.approver,
            role: input.role,
            vote: input.vote,
            at: new Date(at).toISOString(),
            channel: input.channel,
            ...(input.comment ? { comment: input.comment } : {}),
          },
        ];
        const approvals = votes.filter((v) => v.vote === 'approve').length;
        const status =
          input.vote === 'deny' ? 'denied' : approvals >= current.required ? 'approved' : 'pending';
        return {
          ...current,
          votes,
          status,
          ...(status === 'pending' ? {} : { decidedAt: new Date(at).toISOString() }),
        };
      });
    } catch (error) {
      if ((error as Error).name === 'StoreNotFoundError') {
        throw new ApprovalError(
          'approval.not-found',
          `no approval request \`${input.id}\`; list them with \`warden approvals list\``,
        );
      }
      throw error;
    }
    if (expired) {
      await this.auditExpired(record);
      this.changed(record);
      throw new ApprovalError('approval.expired', `approval \`${input.id}\` expired at ${record.expiresAt}`);
    }
    await this.audit.append({
      type: 'approval.vote',
      agent: record.agent,
      actionId: record.actionId,
      actor: input.approver,
      data: {
        approvalId: record.id,
        vote: input.vote,
        role: input.role,
        channel: input.channel,
        ...(input.comment ? { comment: input.comment } : {}),
        status: record.status,
        approvals: record.votes.filter((v) => v.vote === 'approve').length,
        required: record.required,
      },
    });
    this.changed(record);
    if (record.status !== 'pending') this.tellDecided(record);
    return record;
  }

  /**
   * Withdraws a pending request: the action it holds is denied with `approval.cancelled` and no
   * later vote counts. Called when the requesting agent gives up (its `run()` signal aborts, or
   * it calls `POST /v1/approvals/{id}/cancel`), when an admin cancels, and by `sweep` for an
   * agent that was killed, and by `recoverOrphans` (with `code` `approval.orphaned`, kept in the
   * audit record). Throws `approval.not-pending` when it was already decided.
   */
  async cancel(id: string, by: string, reason: string, code?: string): Promise<ApprovalRecord> {
    let record: ApprovalRecord;
    try {
      record = await this.store.update(id, (current) => {
        if (current.status !== 'pending') {
          throw new ApprovalError('approval.not-pending', `approval \`${id}\` is already ${current.status}`);
        }
        return {
          ...current,
          status: 'cancelled',
          decidedAt: new Date(this.now()).toISOString(),
          cancelled: { by, reason },
        };
      });
    } catch (error) {
      if ((error as Error).name === 'StoreNotFoundError') {
        throw new ApprovalError('approval.not-found', `no approval request \`${id}\``);
      }
      throw error;
    }
    await this.audit.append({
      type: 'approval.cancelled',
      agent: record.agent,
      actionId: record.actionId,
      actor: by,
      data: { approvalId: record.id, reason, ...(code ? { code } : {}), votes: record.votes.length },
    });
    this.changed(record);
    this.tellDecided(record);
    return record;
  }

  /**
   * The sweeper's pass: expires every overdue pending request (each gets its `approval.expired`
   * audit record even when nobody waits for it) and cancels the pending requests of agents that
   * `isKilled` says are stopped. `warden serve` and every Warden run it about once a second.
   */
  async sweep(isKilled: (agent: string) => boolean = () => false): Promise<void> {
    const pending = await this.store.list({ status: 'pending', limit: 10_000 });
    const now = this.now();
    for (const r of pending) {
      try {
        if (Date.parse(r.expiresAt) <= now) await this.expire(r.id);
        else if (isKilled(r.agent)) await this.cancel(r.id, 'warden', `agent \`${r.agent}\` was killed`);
      } catch (error) {
        // Decided by someone else between the list and the update: nothing left to do.
        if (!(error instanceof ApprovalError)) throw error;
      }
    }
  }

  /** The request as stored, expired first when it is overdue. */
  async refresh(id: string): Promise<ApprovalRecord | undefined> {
    const record = await this.store.get(id);
    if (record?.status === 'pending' && Date.parse(record.expiresAt) <= this.now()) return this.expire(id);
    return record;
  }

  /** Resolves with the request once it is approved, denied, expired or cancelled. */
  async wait(id: string, signal?: AbortSignal, pollMs = 200): Promise<ApprovalRecord> {
    for (;;) {
      signal?.throwIfAborted();
      const record = await this.refresh(id);
      if (!record)
        throw new ApprovalError('approval.not-found', `approval \`${id}\` disappeared from the store`);
      if (FINAL.has(record.status)) return record;
      // Told of changes at once: the read is a fallback, and the expiry the one deadline to keep.
      const untilExpiry = Date.parse(record.expiresAt) - this.now();
      const ms = this.followed
        ? Math.max(10, Math.min(CHANGE_FEED_FALLBACK_MS, Number.isFinite(untilExpiry) ? untilExpiry : pollMs))
        : pollMs;
      await this.nextChange(id, ms, signal);
    }
  }

  /**
   * Resolves when request `id` changes in this process or, once {@link follow}ing the store's
   * change feed, in another; or after `ms` (the caller's next read then picks up a change it was
   * not told of); or rejects when `signal` aborts.
   */
  nextChange(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(done, ms);
      const offLocal = this.onChange((r) => {
        if (r.id === id) done();
      });
      const poke = (changed: string | undefined) => {
        if (changed === undefined || changed === id) done();
      };
      this.pokes.add(poke);
      const off = () => {
        offLocal();
        this.pokes.delete(poke);
      };
      function done() {
        clearTimeout(timer);
        off();
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }
      function onAbort() {
        clearTimeout(timer);
        off();
        reject(signal?.reason);
      }
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Marks every overdue pending request expired (and audits each). */
  async expireDue(): Promise<void> {
    await this.sweep();
  }

  private async expire(id: string): Promise<ApprovalRecord> {
    let changed = false;
    const record = await this.store.update(id, (current) => {
      if (current.status !== 'pending') return current;
      changed = true;
      return { ...current, status: 'expired', decidedAt: new Date(this.now()).toISOString() };
    });
    if (changed) {
      await this.auditExpired(record);
      this.changed(record);
      this.tellDecided(record);
    }
    return record;
  }

  private async auditExpired(record: ApprovalRecord): Promise<void> {
    await this.audit.append({
      type: 'approval.expired',
      agent: record.agent,
      actionId: record.actionId,
      data: { approvalId: record.id, expiresAt: record.expiresAt, votes: record.votes.length },
    });
  }
}
