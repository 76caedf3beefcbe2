import type { Approvals } from '../approvals/approvals.js';
import type { AuditSink } from '../contract/records.js';
import type { ActionRecord, ActionStore, KillState } from '../store/store.js';
import { ALL_AGENTS, type KillSwitch, killReason } from './kill-switch.js';

/**
 * Withdraws `record` when its agent is stopped and it is still `allowed` (decided through
 * `POST /v1/actions`, result not reported): it becomes `denied` with the kill's reason first in
 * its decision, and the audit gets an `action.withdrawn` record. Returns the record as it is now,
 * and whether this call withdrew it.
 */
export async function withdrawIfKilled(
  actions: ActionStore,
  audit: AuditSink,
  kills: Pick<KillSwitch, 'list'>,
  record: ActionRecord,
): Promise<{ record: ActionRecord; withdrawn: boolean }> {
  if (record.status !== 'allowed') return { record, withdrawn: false };
  // Only a stop an operator made withdraws: not the deny-everyone state the kill switch takes
  // while the store cannot be read (new actions are refused then; these keep their state).
  const stops = kills.list();
  const stop = stops.find((k) => k.agent === ALL_AGENTS) ?? stops.find((k) => k.agent === record.agent);
  if (!stop) return { record, withdrawn: false };
  return withdraw(actions, audit, record, stop);
}

/**
 * The sweeper's pass over stopped agents: expires overdue approval requests and cancels those of
 * stopped agents, then withdraws their allowed, unreported actions (`withdrawKilled`). Returns
 * the actions withdrawn, so the caller can release their limit holds.
 */
export async function sweepStopped(
  kills: Pick<KillSwitch, 'list'>,
  approvals: Pick<Approvals, 'sweep'>,
  actions: ActionStore,
  audit: AuditSink,
): Promise<ActionRecord[]> {
  const stops = kills.list();
  if (stops.length === 0) {
    await approvals.sweep();
    return [];
  }
  const killed = new Set(stops.map((k) => k.agent));
  await approvals.sweep((agent) => killed.has(ALL_AGENTS) || killed.has(agent));
  return withdrawKilled(actions, audit, kills);
}

/**
 * Withdraws every allowed, unreported action of the agents `kills` says are
 * stopped (all agents for the global stop), however the kill arrived (this process, or another
 * sharing the store). Returns the actions withdrawn, so the caller can release their limit holds.
 */
export async function withdrawKilled(
  actions: ActionStore,
  audit: AuditSink,
  kills: Pick<KillSwitch, 'list'>,
): Promise<ActionRecord[]> {
  const stops = kills.list();
  if (stops.length === 0) return [];
  const agents = stops.some((k) => k.agent === ALL_AGENTS) ? [undefined] : stops.map((k) => k.agent);
  const done: ActionRecord[] = [];
  for (const agent of agents) {
    const allowed = await actions.list({ status: 'allowed', limit: 1000, ...(agent ? { agent } : {}) });
    for (const record of allowed) {
      const out = await withdrawIfKilled(actions, audit, kills, record);
      if (out.withdrawn) done.push(out.record);
    }
  }
  return done;
}

async function withdraw(
  actions: ActionStore,
  audit: AuditSink,
  record: ActionRecord,
  stop: KillState,
): Promise<{ record: ActionRecord; withdrawn: boolean }> {
  const reason = killReason(record.agent, stop);
  let withdrawn = false;
  const updated = await actions.update(record.agent, record.id, (current) => {
    // Reported (or withdrawn) meanwhile: the result stands.
    if (current.status !== 'allowed') return current;
    withdrawn = true;
    return {
      ...current,
      status: 'denied',
      decision: { ...current.decision, effect: 'deny', reasons: [reason, ...current.decision.reasons] },
      withdrawn: { by: stop.by, at: stop.at, reason: reason.message },
      updatedAt: new Date().toISOString(),
    };
  });
  if (withdrawn) {
    await audit.append({
      type: 'action.withdrawn',
      agent: record.agent,
      actionId: record.id,
      actor: stop.by,
      data: { status: 'denied', reason },
    });
  }
  return { record: updated, withdrawn };
}
