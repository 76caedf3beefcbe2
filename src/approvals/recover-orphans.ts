import type { ActionStore, ApprovalRecord, AuditStore } from '../store/store.js';
import type { Approvals } from './approvals.js';

/** An orphaned request, and why it can never be carried out. */
export interface OrphanedRequest {
  request: ApprovalRecord;
  missing: 'action' | 'decision';
}

/**
 * Finds the pending approval requests of `POST /v1/actions` that can never be carried out and
 * cancels each (`approval.cancelled` in the audit, with `code: 'approval.orphaned'`), so no
 * approver can release an action that will not run and its id is no longer stuck.
 *
 * A request is orphaned when its action row is missing (or names another request), or when its
 * action's decision record is missing from the audit. Since the action row and its request are
 * written in one transaction after the decision record, only a store written by an older Warden
 * (request first, then the audit record, then the action row) holds such requests after a
 * crash. Requests of a `run()` (`via: 'run'`) have no action row by design and are left alone:
 * the process waiting for them may be alive and share the store. `warden serve` calls this at
 * start and prints how many it recovered.
 *
 * @example
 * const recovered = await recoverOrphans(warden.approvals, store);
 * if (recovered.length > 0) console.log(`recovered ${recovered.length} orphaned approval requests`);
 */
export async function recoverOrphans(
  approvals: Approvals,
  store: { actions: ActionStore; audit: AuditStore },
): Promise<OrphanedRequest[]> {
  const recovered: OrphanedRequest[] = [];
  for (const request of await approvals.list('pending', { limit: 10_000 })) {
    if (request.via === 'run') continue;
    const missing = await missingPart(request, store);
    if (!missing) continue;
    const why =
      missing === 'action'
        ? 'its action was never stored (an older Warden stopped between the two writes)'
        : 'its decision was never recorded in the audit (an older Warden stopped before it)';
    try {
      await approvals.cancel(request.id, 'warden', `orphaned request: ${why}`, 'approval.orphaned');
      recovered.push({ request, missing });
    } catch (error) {
      // Decided by another process between the list and the cancel: nothing left to recover.
      if ((error as { name?: string }).name !== 'ApprovalError') throw error;
    }
  }
  return recovered;
}

async function missingPart(
  request: ApprovalRecord,
  store: { actions: ActionStore; audit: AuditStore },
): Promise<OrphanedRequest['missing'] | undefined> {
  const action = await store.actions.get(request.agent, request.actionId);
  if (action?.approvalId !== request.id) return 'action';
  const [decision] = await store.audit.query({
    type: 'decision',
    agent: request.agent,
    actionId: request.actionId,
    limit: 1,
  });
  return decision ? undefined : 'decision';
}
