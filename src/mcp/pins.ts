import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { AuditLog } from '../audit/audit-log.js';
import { canonicalJson, sha256Hex } from '../audit/canonical-json.js';
import { type PinErrorCode, WardenError } from '../contract/errors.js';
import { MemoryPinStore } from '../store/memory/memory-store.js';
import type { PinnedDefinition, PinStore, Store, ToolPin } from '../store/store.js';

/** Who approves a tool seen for the first time under `pinning: trust-on-first-use`. */
export const TOFU_APPROVER = 'trust-on-first-use';

export type PinMode = 'trust-on-first-use' | 'approve';

/** Whether calls to a tool may go ahead, as far as its pinned definition goes. */
export type PinState = 'approved' | 'unapproved' | 'changed';

/**
 * The pinned part of a tool definition: name, description, input schema and annotations, as
 * canonical JSON (RFC 8785), and its SHA-256. What a model reads and relies on; a change to any
 * of it is a change of the tool.
 */
export function pinnedDefinition(tool: Tool): PinnedDefinition {
  const definition: Record<string, unknown> = { name: tool.name };
  if (tool.description !== undefined) definition.description = tool.description;
  definition.inputSchema = tool.inputSchema;
  if (tool.annotations !== undefined) definition.annotations = tool.annotations;
  return { digest: sha256Hex(canonicalJson(definition)), definition };
}

/** An admin's approval of a tool definition that cannot be applied; `code` says why. */
export class PinError extends WardenError {
  override readonly name = 'PinError';
  constructor(
    override readonly code: PinErrorCode,
    message: string,
  ) {
    super(code, message);
  }
}

/**
 * Tool definition pinning (trust on first use, or approval of every new tool): records each
 * upstream tool's definition when first seen and refuses calls to a tool whose definition differs
 * from the approved one until an admin approves the new one. Audited: `mcp.pin.trusted`,
 * `mcp.pin.new`, `mcp.pin.changed`, `mcp.pin.approved`.
 */
export class ToolPins {
  /** `server\0tool` → approved digest: the hot path's answer without a store read. */
  readonly #approved = new Map<string, string>();
  readonly store: PinStore;

  constructor(
    store: Store,
    private readonly audit: Pick<AuditLog, 'append'>,
    private readonly mode: PinMode,
  ) {
    this.store = store.pins ?? fallbackPins(store);
  }

  /** Records what the upstream server lists now; returns the state of each tool. */
  async observe(server: string, tool: Tool): Promise<PinState> {
    const seen = pinnedDefinition(tool);
    // Most listings change nothing: answer from a plain read, without taking the write lock.
    const stored = await this.store.get(server, tool.name);
    if (
      (stored?.approved?.digest === seen.digest && !stored.pending) ||
      (stored?.pending?.digest === seen.digest && stored.approved?.digest !== seen.digest)
    ) {
      return this.remember(server, tool.name, stored, seen.digest);
    }
    const now = new Date().toISOString();
    let event: 'mcp.pin.trusted' | 'mcp.pin.new' | 'mcp.pin.changed' | undefined;
    const pin = await this.store.update(server, tool.name, (current) => {
      event = undefined;
      if (!current) {
        if (this.mode === 'trust-on-first-use') {
          event = 'mcp.pin.trusted';
          return {
            server,
            tool: tool.name,
            firstSeenAt: now,
            approved: { ...seen, by: TOFU_APPROVER, at: now },
          };
        }
        event = 'mcp.pin.new';
        return { server, tool: tool.name, firstSeenAt: now, pending: { ...seen, seenAt: now } };
      }
      if (current.approved?.digest === seen.digest) {
        if (!current.pending) return undefined;
        const { pending: _dropped, ...rest } = current; // the upstream went back to the approved one
        return rest;
      }
      if (current.pending?.digest === seen.digest) return undefined;
      event = current.approved ? 'mcp.pin.changed' : 'mcp.pin.new';
      return { ...current, pending: { ...seen, seenAt: now } };
    });
    if (event) {
      await this.audit.append({
        type: event,
        data: {
          server,
          tool: tool.name,
          digest: seen.digest,
          ...(pin?.approved ? { approvedDigest: pin.approved.digest } : {}),
        },
      });
    }
    return this.remember(server, tool.name, pin, seen.digest);
  }

  /** Whether this definition is known (in this process) to be the approved one: the hot path's check. */
  isApproved(server: string, tool: string, digest: string): boolean {
    return this.#approved.get(`${server}\0${tool}`) === digest;
  }

  /** The state of a tool whose current upstream definition has `digest`. Reads the store unless already approved. */
  async stateOf(server: string, tool: string, digest: string): Promise<PinState> {
    if (this.#approved.get(`${server}\0${tool}`) === digest) return 'approved';
    return this.remember(server, tool, await this.store.get(server, tool), digest);
  }

  /**
   * Approves the pending definition of a tool (the one an admin reviewed: pass its `digest` to
   * make sure a later change is not approved by mistake).
   */
  async approve(server: string, tool: string, by: string, digest?: string): Promise<ToolPin> {
    let approvedDigest = '';
    const pin = await this.store.update(server, tool, (current) => {
      if (!current)
        throw new PinError('mcp.pin-not-found', `no tool \`${tool}\` of server \`${server}\` has been seen`);
      if (!current.pending) {
        throw new PinError(
          'mcp.pin-nothing-pending',
          `tool \`${tool}\` of server \`${server}\` has no new definition waiting; its approved digest is ${current.approved?.digest ?? 'none'}`,
        );
      }
      if (digest !== undefined && digest !== current.pending.digest) {
        throw new PinError(
          'mcp.pin-digest-mismatch',
          `the definition waiting for \`${server}/${tool}\` has digest ${current.pending.digest}, not ${digest}: review it again`,
        );
      }
      const { pending, ...rest } = current;
      approvedDigest = pending.digest;
      return {
        ...rest,
        approved: {
          digest: pending.digest,
          definition: pending.definition,
          by,
          at: new Date().toISOString(),
        },
      };
    });
    await this.audit.append({
      type: 'mcp.pin.approved',
      actor: by,
      data: { server, tool, digest: approvedDigest },
    });
    this.#approved.set(`${server}\0${tool}`, approvedDigest);
    return pin as ToolPin;
  }

  list(server?: string): Promise<ToolPin[]> {
    return this.store.list(server === undefined ? {} : { server });
  }

  private remember(server: string, tool: string, pin: ToolPin | undefined, digest: string): PinState {
    const key = `${server}\0${tool}`;
    if (pin?.approved?.digest === digest) {
      this.#approved.set(key, digest);
      return 'approved';
    }
    this.#approved.delete(key);
    return pin?.approved ? 'changed' : 'unapproved';
  }
}

const fallbacks = new WeakMap<Store, PinStore>();

/** A store without pins (a backend that predates them): pins live in this process only. */
function fallbackPins(store: Store): PinStore {
  let pins = fallbacks.get(store);
  if (!pins) {
    process.emitWarning(
      `store \`${store.kind}\` keeps no MCP tool pins: they are kept in memory and forgotten on restart`,
    );
    pins = new MemoryPinStore();
    fallbacks.set(store, pins);
  }
  return pins;
}
