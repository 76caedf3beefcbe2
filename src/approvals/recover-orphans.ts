import type { ActionStore, ApprovalRecord, AuditStore } from '../store/store.js';
import type { Approvals } from './approvals.js';

/** An orphaned request, and why it can never be carried out. */
export interface OrphanedRequest {
  request: ApprovalRecord;
  missing: 'action' | 'decision' | 'request';
}

/**
 * Finds the pending approval requests of `POST /v1/actions` that can never be carried out and
 * cancels each (`approval.cancelled` in the audit, with `code: 'approval.orphaned'`), so no
 * approver can release an action that will not run and its id is no longer stuck.
 *
 * A request is orphaned when its action row is missing (or names another request), when its
 * action's decision record is missing from the audit, or when its `approval.request` record is.
 * The action row and its request are written in one transaction after the decision record, so
 * the first two come only from a store written by an older Warden (request first, then the audit
 * record, then the action row). The third is a crash of this one between that transaction and
 * the `approval.request` record, which comes before the agent's 202: the agent never learnt of
 * the request, so nothing would execute it once approved (found by the chaos suite,
 * `test/chaos/serve-kill.integration.test.ts`). Requests of a `run()` (`via: 'run'`) have no action row by design and are left alone:
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
    const why = WHY[missing];
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

const WHY: Record<OrphanedRequest['missing'], string> = {
  action: 'its action was never stored (an older Warden stopped between the two writes)',
  decision: 'its decision was never recorded in the audit (an older Warden stopped before it)',
  request: 'Warden stopped before recording it and answering the agent, so the agent never learnt of it',
};

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
  if (!decision) return 'decision';
  const requests = await store.audit.query({
    type: 'approval.request',
    agent: request.agent,
    actionId: request.actionId,
    limit: 10,
  });
  return requests.some((r) => r.data.approvalId === request.id) ? undefined : 'request';
}
