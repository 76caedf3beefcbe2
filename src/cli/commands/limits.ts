import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { AuditLog } from '../../audit/audit-log.js';
import { formatUsd, type LimitsBackend, USD } from '../../limits/backend.js';
import { buildLimiters, hasLimits } from '../../limits/build-limiters.js';
import type { LimitUsage } from '../../limits/limiter.js';
import { backendKind, openLimitsBackend } from '../../limits/open-backend.js';
import { Tightening } from '../../limits/tightening.js';
import { limitsView } from '../../limits/usage.js';
import { Overrides } from '../../store/overrides.js';
import { CliError, DEFAULT_DB, loadPolicyOrExit, openStore, printJson } from '../common.js';

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
      '--db <file>',
      'SQLite store file, for the sqlite backend (default .warden/warden.db or $WARDEN_DB)',
    )
    .option('--agent <name>', 'only this agent')
    .option('--json', 'print { agents: [{ agent, limits: [...] }] }, the shape of GET /v1/limits')
    .addHelpText(
      'after',
      '\nThe counters are read from the backend the policy names (limits.backend): the SQLite store\n(--db), Redis or PostgreSQL. With the memory backend there is nothing to read. An agent whose\nrate limits are tightened (the `tighten-limits` anomaly response, an override in the store)\nis shown with the lower limits it is held to, as GET /v1/limits shows them.\n\nExample:\n  warden limits --policy warden.yaml --agent research --json',
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
      const file = resolve(opts.db ?? process.env.WARDEN_DB ?? DEFAULT_DB);
      const kind = backendKind(config, { kind: 'sqlite' });
      if (kind === 'sqlite' && !existsSync(file)) {
        throw new CliError(
          `no store at \`${file}\`: pass the --db that \`warden serve\` uses (or set WARDEN_DB)`,
          1,
        );
      }
      let backend: LimitsBackend;
      try {
        backend = await openLimitsBackend(config, { kind: 'sqlite', file });
      } catch (error) {
        throw new CliError(`cannot open the ${kind} limits backend: ${(error as Error).message}`, 1);
      }
      try {
        const tightening = new Tightening(config);
        const tightened = existsSync(file) ? await tightenedAgents(file, tightening) : [];
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
      }
    });
}

/**
 * Points `tightening` at the incident overrides stored in `file` (read once) and returns the
 * agents tightened now. Overrides live in the store's audit log whatever the limits backend.
 */
async function tightenedAgents(file: string, tightening: Tightening): Promise<string[]> {
  const store = await openStore(file, { mustExist: true });
  const audit = new AuditLog(store.audit);
  try {
    const overrides = new Overrides(store.audit, audit);
    try {
      await overrides.start();
    } catch (error) {
      throw new CliError(`cannot read the incident overrides in \`${file}\`: ${(error as Error).message}`, 1);
    }
    tightening.follow(overrides);
    return overrides.list().tightened.map((state) => state.agent);
  } finally {
    await audit.close();
    await store.close();
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
