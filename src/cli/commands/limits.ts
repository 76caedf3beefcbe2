import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { AuditLog } from '../../audit/audit-log.js';
import { formatUsd, type LimitsBackend, USD } from '../../limits/backend.js';
import { buildLimiters, hasLimits } from '../../limits/build-limiters.js';
import type { LimitUsage } from '../../limits/limiter.js';
import { backendKind, type LimitsHome, openLimitsBackend } from '../../limits/open-backend.js';
import { Tightening } from '../../limits/tightening.js';
import { limitsView } from '../../limits/usage.js';
import { Overrides } from '../../store/overrides.js';
import type { Store } from '../../store/store.js';
import { CliError, DEFAULT_DB, loadPolicyOrExit, openStore, printJson, storeOf } from '../common.js';

const isPostgresUrl = (db: string) => /^postgres(ql)?:\/\//i.test(db);

interface LimitsOptions {
  policy?: string;
  db?: string;
  agent?: string;
  json?: boolean;
}

/** `warden limits`: each agent's usage against its limits, read from the policy's backend. */
export function registerLimits(program: Command): void {
  program
    .command('limits')
    .description("show each agent's usage against its rate, budget, step, duration and loop limits")
    .option('--policy <file>', 'policy file (default: ./warden.yaml)')
    .option(
      '--db <file|url>',
      "the store: a SQLite file or a postgres:// URL (default $WARDEN_DB, the policy's store section, else .warden/warden.db)",
    )
    .option('--agent <name>', 'only this agent')
    .option('--json', 'print { agents: [{ agent, limits: [...] }] }, the shape of GET /v1/limits')
    .addHelpText(
      'after',
      '\nThe counters are read from the backend the policy names (limits.backend): the store (--db,\na SQLite file or a postgres:// URL), Redis or PostgreSQL. With the memory backend there is\nnothing to read. An agent whose rate limits are tightened (the `tighten-limits` anomaly\nresponse, an override in the store) is shown with the lower limits it is held to, as\nGET /v1/limits shows them.\n\nExample:\n  warden limits --policy warden.yaml --agent research --json',
    )
    .action(async (opts: LimitsOptions) => {
      const policyFile = opts.policy ?? (existsSync('warden.yaml') ? 'warden.yaml' : undefined);
      if (!policyFile) throw new CliError('no policy: pass --policy FILE or create ./warden.yaml');
      const policy = loadPolicyOrExit(policyFile);
      const config = policy.config.limits;
      if (!hasLimits(config)) {
        if (opts.json) printJson({ agents: [] });
        else process.stdout.write(`the policy \`${policyFile}\` sets no limits (see docs/limits.md)\n`);
        return;
      }
      const db = storeOf(opts.db, policy) ?? DEFAULT_DB;
      const onPostgres = isPostgresUrl(db);
      const kind = backendKind(config, { kind: onPostgres ? 'postgres' : 'sqlite' });
      // The counters live in the store itself (sqlite, or postgres following a PostgreSQL store):
      // it must exist. Otherwise the store only holds the incident overrides, read when present.
      const countersInStore = kind === 'sqlite' || (kind === 'postgres' && onPostgres && !config.postgres);
      let store: Store | undefined;
      if (countersInStore) store = await openStore(db, { mustExist: true });
      else if (onPostgres || existsSync(resolve(db))) {
        store = await openStore(db, { mustExist: true }).catch(() => undefined);
      }
      let backend: LimitsBackend;
      try {
        backend = await openLimitsBackend(config, (store as LimitsHome | undefined) ?? { kind: 'memory' });
      } catch (error) {
        await store?.close();
        throw new CliError(`cannot open the ${kind} limits backend: ${(error as Error).message}`, 1);
      }
      try {
        const tightening = new Tightening(config);
        const tightened = store ? await tightenedAgents(store, tightening) : [];
        const limiters = buildLimiters(config, backend, [...policy.agents.keys()], tightening);
        let view: Awaited<ReturnType<typeof limitsView>>;
        try {
          view = await limitsView(limiters, opts.agent);
        } catch (error) {
          throw new CliError(`the ${kind} limits backend did not answer: ${(error as Error).message}`, 1);
        }
        if (opts.json) printJson(view);
        else {
          process.stdout.write(table(view.agents));
          for (const agent of tightened) {
            const state = tightening.of(agent);
            if (state && (opts.agent === undefined || opts.agent === agent))
              process.stdout.write(
                `\n${agent}: held to 1/${tightening.factor} of its rate limits. ${tightening.note(agent, state)}\n`,
              );
          }
        }
      } finally {
        await backend.close();
        await store?.close();
      }
    });
}

/**
 * Points `tightening` at the incident overrides stored in `store` (read once) and returns the
 * agents tightened now. Overrides live in the store's audit log whatever the limits backend.
 */
async function tightenedAgents(store: Store, tightening: Tightening): Promise<string[]> {
  const audit = new AuditLog(store.audit);
  try {
    const overrides = new Overrides(store.audit, audit);
    try {
      await overrides.start();
    } catch (error) {
      throw new CliError(`cannot read the incident overrides in the store: ${(error as Error).message}`, 1);
    }
    tightening.follow(overrides);
    return overrides.list().tightened.map((state) => state.agent);
  } finally {
    await audit.close();
  }
}

function figure(value: number, unit: LimitUsage['unit']): string {
  if (unit === 'usd') return formatUsd(Math.round(value * USD));
  if (unit === 'ms') return `${(value / 1000).toFixed(1)}s`;
  return String(value);
}

function table(agents: { agent: string; limits: Omit<LimitUsage, 'agent'>[] }[]): string {
  if (agents.length === 0) return 'no limit state yet\n';
  const rows = [['agent', 'limit', 'key', 'used', 'reserved', 'limit', 'window', 'resets']];
  for (const a of agents) {
    for (const l of a.limits) {
      rows.push([
        a.agent,
        l.name,
        l.key,
        figure(l.used, l.unit),
        l.reserved ? figure(l.reserved, l.unit) : '',
        figure(l.limit, l.unit),
        l.window,
        l.resetsAt ?? '',
      ]);
    }
  }
  const widths = (rows[0] as string[]).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}
