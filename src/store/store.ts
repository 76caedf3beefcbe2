import type { Action } from '../contract/action.js';
import type { AlertStore } from '../contract/alert.js';
import type { Decision } from '../contract/decision.js';
import { WardenError } from '../contract/errors.js';
import type { ObservationRecord } from '../contract/observation.js';
import type { AuditStore } from '../contract/records.js';
import type { ChangeFeed } from './change-feed.js';
import type { AuditInsights } from './insights.js';

export type {
  AuditEntry,
  AuditQuery,
  AuditRecord,
  AuditStore,
  VerifyProblem,
  VerifyResult,
} from '../contract/records.js';
export { CHANGE_FEED_FALLBACK_MS, type ChangeFeed, type ChangeTopic } from './change-feed.js';
export type { AuditAggregates, AuditInsights, InsightsWindow, SessionSummary } from './insights.js';

/**
 * One store interface, several backends (SPEC §7). Every method that touches durable state is
 * async; a resolved promise means the change is durable (committed and fsync'd for SQLite).
 * Each backend passes the shared conformance suite in `store/store.conformance.ts`.
 */
export interface Store {
  readonly kind: string;
  readonly audit: AuditStore;
  readonly kills: KillStore;
  readonly approvals: ApprovalStore;
  readonly actions: ActionStore;
  /** MCP tool definition pins; a backend without them leaves the gateway to keep pins in memory. */
  readonly pins?: PinStore;
  /** The alert outbox; a backend without one gets an in-memory outbox (alerts then do not survive a restart). */
  readonly alerts?: AlertStore;
  /**
   * The dashboard's aggregates and session traces over the audit (`store/insights.ts`); a backend
   * without them is read by a scan of `audit.query` (`insightsOf`).
   */
  readonly insights?: AuditInsights;
  /** What sessions have read (SPEC §2b); a backend without it keeps observations in process memory only. */
  readonly observations?: ObservationStore;
  /** Bearer tokens (their hashes) shared by every server; a store without them leaves tokens to the tokens file. */
  readonly tokens?: TokenStore;
  /**
   * What changed, told to every process sharing the store at once (PostgreSQL `LISTEN/NOTIFY`).
   * A store without it leaves the followers to their polls.
   */
  readonly changes?: ChangeFeed;
  /**
   * For a store reached over the network: resolves when it answers, rejects (`store.unavailable`)
   * when it does not. `/healthz` asks it; an embedded store has none.
   */
  ping?(): Promise<void>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------- observations (SPEC §2b)

export interface ObservationStore {
  /** Stores one observation; resolves with it and its `seq` once durable. */
  append(record: ObservationRecord): Promise<ObservationRecord>;
  /**
   * Stores one observation in the store's next audit commit (made for a decision) or, when none
   * comes within `LATER_MAX_MS`, in one of its own; resolves once durable. For observations no
   * caller must see durable before going on: a crash may lose the last of them. A store without
   * it is sent {@link append}.
   */
  appendLater?(record: ObservationRecord): Promise<ObservationRecord>;
  /**
   * The observations of `agent`'s `session`, oldest first: those after `afterSeq` when given, at
   * most `limit` (default 1,000, at most 10,000).
   */
  list(
    agent: string,
    session: string,
    options?: { afterSeq?: number; limit?: number },
  ): Promise<ObservationRecord[]>;
}

// ---------------------------------------------------------------- kill switch

/** A stop. `agent` is `*` for the global stop. */
export interface KillState {
  agent: string;
  reason: string;
  by: string;
  at: string;
}

export interface KillStore {
  kill(state: KillState): Promise<void>;
  /** Returns false when the agent was not killed. */
  revive(agent: string): Promise<boolean>;
  list(): Promise<KillState[]>;
  /**
   * Calls `onChange` with the whole kill list whenever it changes, in this process or in another
   * sharing the store, within `intervalMs` (default 250). `onHealth` hears of a failed read (with
   * the error) and of the first good read after failures (with undefined), so the caller can fail
   * closed while the state is unknown. Returns a function that stops watching.
   */
  watch(
    onChange: (kills: KillState[]) => void,
    intervalMs?: number,
    onHealth?: (error: unknown | undefined) => void,
  ): () => void;
}

// ---------------------------------------------------------------- approvals

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired' | 'cancelled';

export interface ApprovalVote {
  approver: string;
  role: string;
  vote: 'approve' | 'deny';
  at: string;
  channel: string;
  comment?: string;
}

export interface ApprovalRecord {
  id: string;
  actionId: string;
  agent: string;
  user?: string;
  /** SHA-256 (hex) of the canonical JSON of `{ type, params }`: the approval is bound to it. */
  digest: string;
  action: Action;
  decision: Decision;
  required: number;
  roles: string[];
  status: ApprovalStatus;
  votes: ApprovalVote[];
  createdAt: string;
  expiresAt: string;
  decidedAt?: string;
  /** Set when the request was cancelled: who withdrew it and why. */
  cancelled?: { by: string; reason: string };
  /**
   * Who acts on the answer: `run` (a `run()` waiting in its own process, which executes the
   * action) or `submit` (`POST /v1/actions`: the agent executes it once its action row is
   * `allowed`). Absent on requests written before this field: recovery at start treats those as
   * `submit`.
   */
  via?: 'run' | 'submit';
}

export interface ApprovalListFilter {
  status?: ApprovalStatus;
  limit?: number;
  order?: 'asc' | 'desc';
}

export interface ApprovalStore {
  create(record: ApprovalRecord): Promise<void>;
  get(id: string): Promise<ApprovalRecord | undefined>;
  /** By creation time, oldest first unless `order` is `desc`; at most `limit` (default 100). */
  list(filter?: ApprovalListFilter): Promise<ApprovalRecord[]>;
  /**
   * Read-modify-write in one transaction (serialised across processes). `change` may throw to
   * abort; the error propagates and nothing is written. Rejects when `id` does not exist.
   */
  update(id: string, change: (current: ApprovalRecord) => ApprovalRecord): Promise<ApprovalRecord>;
}

// ---------------------------------------------------------------- actions (agents that execute themselves)

export type ActionStatus = 'pending' | 'allowed' | 'denied' | 'expired' | 'completed' | 'failed';

/**
 * An action an agent executes itself. It is known by its agent AND its id: a client-chosen id is
 * scoped to the agent that chose it, so two agents may use the same id for two actions.
 */
export interface ActionRecord {
  id: string;
  agent: string;
  action: Action;
  decision: Decision;
  status: ActionStatus;
  approvalId?: string;
  result?: Record<string, unknown>;
  /** Set when a kill withdrew the action while it was allowed and unreported (it is then `denied`). */
  withdrawn?: { by: string; at: string; reason: string };
  createdAt: string;
  updatedAt: string;
}

export interface ActionStore {
  /**
   * Stores a new action. With `approval` (an `ask`), its approval request is stored in the same
   * transaction: both are written or neither is, so a crash cannot leave a request without its
   * action. Rejects with a `StoreConflictError` when `record.agent` already has an action
   * `record.id`, or when the approval id exists; then nothing is written.
   */
  create(record: ActionRecord, approval?: ApprovalRecord): Promise<void>;
  /** The action `id` of `agent`. */
  get(agent: string, id: string): Promise<ActionRecord | undefined>;
  /** The actions of every agent that carry `id` (a client-chosen id may be used by several), at most `limit` (default 10). */
  find(id: string, limit?: number): Promise<ActionRecord[]>;
  /** Actions in `status` (of `agent` when given), oldest first, at most `limit` (default 100). */
  list(filter: { status: ActionStatus; agent?: string; limit?: number }): Promise<ActionRecord[]>;
  /** Read-modify-write in one transaction; `change` may throw to abort. Rejects when the action does not exist. */
  update(agent: string, id: string, change: (current: ActionRecord) => ActionRecord): Promise<ActionRecord>;
}

/** Thrown by `create` when the id exists (`store.conflict`). */
export class StoreConflictError extends WardenError {
  override readonly name = 'StoreConflictError';
  declare readonly code: 'store.conflict';
  constructor(message: string, options?: { cause?: unknown }) {
    super('store.conflict', message, options);
  }
}

/** Thrown by `update` when the id does not exist (`store.not-found`). */
export class StoreNotFoundError extends WardenError {
  override readonly name = 'StoreNotFoundError';
  declare readonly code: 'store.not-found';
  constructor(message: string, options?: { cause?: unknown }) {
    super('store.not-found', message, options);
  }
}

/**
 * Thrown by a networked backend (PostgreSQL) that cannot be reached or did not answer in time
 * (`store.unavailable`): nothing was written, and the caller fails closed.
 */
export class StoreUnavailableError extends WardenError {
  override readonly name = 'StoreUnavailableError';
  declare readonly code: 'store.unavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super('store.unavailable', message, options);
  }
}

// ---------------------------------------------------------------- MCP tool pins

/** One tool definition as pinned: its digest and the definition itself (for review). */
export interface PinnedDefinition {
  digest: string;
  definition: Record<string, unknown>;
}

/**
 * What the MCP gateway knows of one upstream tool: the definition an admin (or trust on first use)
 * approved, and a different one seen since that nobody approved yet.
 */
export interface ToolPin {
  server: string;
  tool: string;
  approved?: PinnedDefinition & { by: string; at: string };
  pending?: PinnedDefinition & { seenAt: string };
  firstSeenAt: string;
}

export interface PinStore {
  get(server: string, tool: string): Promise<ToolPin | undefined>;
  /** Ordered by server, then tool. */
  list(filter?: { server?: string }): Promise<ToolPin[]>;
  /**
   * Read-modify-write in one transaction (serialised across processes); creates the pin when
   * `change` gets undefined. Returning undefined from `change` leaves the store unchanged.
   */
  update(
    server: string,
    tool: string,
    change: (current: ToolPin | undefined) => ToolPin | undefined,
  ): Promise<ToolPin | undefined>;
}

// ---------------------------------------------------------------- bearer tokens

/** A bearer token as stored: its SHA-256 (hex), never the token itself. */
export interface StoredToken {
  sha256: string;
  name: string;
  role: 'agent' | 'approver' | 'admin' | 'viewer';
  agent?: string;
  createdAt: string;
}

export interface TokenStore {
  /** Rejects with a `StoreConflictError` when the hash is stored already. */
  create(token: StoredToken): Promise<void>;
  /** Revokes the tokens named `name` (or the one whose hash is `sha256`); resolves to how many. */
  revoke(which: { name?: string; sha256?: string }): Promise<number>;
  /** Tokens not revoked, oldest first. */
  list(): Promise<StoredToken[]>;
  /**
   * Calls `onChange` with the whole list when it changes here or on another server (within
   * `intervalMs`, default 1000). Returns a function that stops watching.
   */
  watch(onChange: (tokens: StoredToken[]) => void, intervalMs?: number): () => void;
}
