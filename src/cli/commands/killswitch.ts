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

interface StopOptions {
  all?: boolean;
  reason: string;
  by?: string;
  db?: string;
  json?: boolean;
}

const named = (target: string) => (target === ALL_AGENTS ? 'all agents' : `agent ${target}`);

/** `kill` and `revive` take the same target and options; only the verb and its effect differ. */
function stopCommand(
  program: Command,
  verb: 'stop' | 'revive',
  describe: { command: string; description: string; all: string },
  act: (ks: KillSwitch, target: string, by: string, opts: StopOptions) => Promise<void>,
): Command {
  return program
    .command(describe.command)
    .description(describe.description)
    .option('--all', describe.all)
    .option('--by <name>', `who is doing it (default: cli:$USER)`)
    .option(
      '--db <file|url>',
      'store: a SQLite file or a postgres:// URL (default .warden/warden.db or $WARDEN_DB)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (agent: string | undefined, opts: StopOptions) => {
      const target = targetOf(agent, opts.all, verb);
      await withKillSwitch(opts.db, (ks) => act(ks, target, opts.by ?? operator(), opts));
    });
}

export function registerKillSwitch(program: Command): void {
  stopCommand(
    program,
    'stop',
    {
      command: 'kill [agent]',
      description:
        'stop an agent (or every agent with --all): its actions are denied and in-flight runs aborted, in every process sharing the store',
      all: 'stop every agent',
    },
    async (ks, target, by, opts) => {
      const state = await ks.kill(target, by, opts.reason);
      if (opts.json) printJson({ killed: state });
      else process.stdout.write(`stopped ${named(target)}: ${opts.reason}\n`);
    },
  ).requiredOption('--reason <text>', 'why: recorded in the audit log and shown to the agent');

  stopCommand(
    program,
    'revive',
    {
      command: 'revive [agent]',
      description: 'lift the stop of an agent (or the global stop with --all)',
      all: 'lift the global stop',
    },
    async (ks, target, by, opts) => {
      const revived = await ks.revive(target, by, opts.reason);
      if (opts.json) printJson({ revived });
      else if (revived) process.stdout.write(`revived ${named(target)}\n`);
      else
        throw new CliError(
          target === ALL_AGENTS ? 'there is no global stop' : `agent ${target} is not stopped`,
          1,
        );
    },
  ).option('--reason <text>', 'why: recorded in the audit log', '');
}
