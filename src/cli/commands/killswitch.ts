import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { AuditLog } from '../../audit/audit-log.js';
import { ALL_AGENTS, KillSwitch } from '../../killswitch/kill-switch.js';
import { CliError, openStore, printJson } from '../common.js';

const operator = () => `cli:${process.env.USER ?? userInfo().username}`;

async function withKillSwitch<T>(db: string | undefined, fn: (ks: KillSwitch) => Promise<T>): Promise<T> {
  const store = await openStore(db, { mustExist: true });
  const audit = new AuditLog(store.audit);
  const ks = new KillSwitch(store.kills, audit);
  try {
    return await fn(ks);
  } finally {
    await audit.close();
    await store.close();
  }
}

/** The agent named, or `*` for --all; the global stop is only ever reached through --all. */
function targetOf(agent: string | undefined, all: boolean | undefined, verb: 'stop' | 'revive'): string {
  if (!agent && !all) {
    throw new CliError(
      `name the agent to ${verb}, or pass --all for ${verb === 'stop' ? 'every agent' : 'the global stop'}`,
    );
  }
  if (agent && all) throw new CliError('give an agent name or --all, not both');
  if (agent === ALL_AGENTS) throw new CliError(`to ${verb} every agent use --all`);
  return all ? ALL_AGENTS : (agent as string);
}

export function registerKillSwitch(program: Command): void {
  program
    .command('kill [agent]')
    .description(
      'stop an agent (or every agent with --all): its actions are denied and in-flight runs aborted, in every process sharing the store',
    )
    .option('--all', 'stop every agent')
    .requiredOption('--reason <text>', 'why: recorded in the audit log and shown to the agent')
    .option('--by <name>', 'who is stopping it (default: cli:$USER)')
    .option('--db <file>', 'store file (default .warden/warden.db or $WARDEN_DB)')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        agent: string | undefined,
        opts: { all?: boolean; reason: string; by?: string; db?: string; json?: boolean },
      ) => {
        const target = targetOf(agent, opts.all, 'stop');
        const state = await withKillSwitch(opts.db, (ks) =>
          ks.kill(target, opts.by ?? operator(), opts.reason),
        );
        if (opts.json) printJson({ killed: state });
        else
          process.stdout.write(
            `stopped ${target === ALL_AGENTS ? 'all agents' : `agent ${target}`}: ${opts.reason}\n`,
          );
      },
    );

  program
    .command('revive [agent]')
    .description('lift the stop of an agent (or the global stop with --all)')
    .option('--all', 'lift the global stop')
    .option('--reason <text>', 'why: recorded in the audit log', '')
    .option('--by <name>', 'who is reviving it (default: cli:$USER)')
    .option('--db <file>', 'store file (default .warden/warden.db or $WARDEN_DB)')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        agent: string | undefined,
        opts: { all?: boolean; reason: string; by?: string; db?: string; json?: boolean },
      ) => {
        const target = targetOf(agent, opts.all, 'revive');
        const revived = await withKillSwitch(opts.db, (ks) =>
          ks.revive(target, opts.by ?? operator(), opts.reason),
        );
        if (opts.json) printJson({ revived });
        else if (revived)
          process.stdout.write(`revived ${target === ALL_AGENTS ? 'all agents' : `agent ${target}`}\n`);
        else
          throw new CliError(
            `${target === ALL_AGENTS ? 'there is no global stop' : `agent ${target} is not stopped`}`,
            1,
          );
      },
    );
}
