import type { Warden } from '../pipeline/warden.js';
import { createWarden } from '../pipeline/warden.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import type { CheckContext, CheckItem, CheckResult } from './check-types.js';
import {
  alertSinks,
  auditVerifies,
  killSwitchWorks,
  recentCheckpoint,
  redteamOnRecord,
  sandboxWorks,
} from './deployment-items.js';
import {
  approvalGates,
  costAlerts,
  leastPrivilege,
  limitsSet,
  monitoringOn,
  policyProtected,
} from './policy-items.js';
import { noSecretsInRepo } from './secrets-item.js';

/** The guide's pre-launch checklist, in its order. */
export const CHECK_ITEMS: readonly CheckItem[] = [
  leastPrivilege,
  sandboxWorks,
  approvalGates,
  limitsSet,
  monitoringOn,
  costAlerts,
  alertSinks,
  killSwitchWorks,
  auditVerifies,
  recentCheckpoint,
  redteamOnRecord,
  noSecretsInRepo,
  policyProtected,
];

/**
 * Runs every item (or those given) and returns their results in order. An item that crashes is a
 * `fail` naming the crash: a checklist that cannot check something does not pass it.
 */
export async function runCheck(
  ctx: Omit<CheckContext, 'scratch'>,
  items: readonly CheckItem[] = CHECK_ITEMS,
): Promise<CheckResult[]> {
  let scratch: Promise<Warden> | undefined;
  const full: CheckContext = {
    ...ctx,
    scratch: () => {
      // A probe of decisions only: the policy's monitoring is not what it is about (nor its warning).
      const monitoring = { ...ctx.policy.config.monitoring, enabled: false };
      // It decides as the deployment would: Warden protects the deployment's SQLite file (not this
      // scratch store's), so the scratch store names that file (`storeFileOf`).
      const db = ctx.dbPath ?? process.env.WARDEN_DB ?? '.warden/warden.db';
      const store = /^postgres(ql)?:/.test(db)
        ? new MemoryStore()
        : Object.assign(new MemoryStore(), { file: db });
      scratch ??= createWarden({
        policy: { ...ctx.policy, config: { ...ctx.policy.config, monitoring } },
        store,
        sandboxAvailable: true,
        killPollMs: 60_000,
      });
      return scratch;
    },
  };
  const results: CheckResult[] = [];
  try {
    for (const item of items) {
      try {
        results.push(await item(full));
      } catch (error) {
        results.push({
          id: item.name,
          title: item.name,
          status: 'fail',
          why: `the check itself failed: ${(error as Error).message}`,
          fix: 'report this with the policy that caused it',
        });
      }
    }
  } finally {
    if (scratch) await (await scratch).close();
  }
  return results;
}
