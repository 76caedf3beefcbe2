import { type Command, Help } from 'commander';

type Register = (program: Command) => void;

/**
 * Every top-level command: its help line, and the module that registers it, loaded only when the
 * command line names it. A command's module pulls in what it runs (the store, the pipeline, the
 * MCP SDK, the HTTP server), which is most of a start; `warden --help` needs none of it.
 *
 * INVARIANT: `term` and `description` are what the module registers (a test compares the help
 * printed from this index with the help of every module loaded).
 */
export const COMMANDS: readonly {
  name: string;
  term: string;
  description: string;
  load: () => Promise<Register>;
}[] = [
  {
    name: 'serve',
    term: 'serve [options]',
    description: 'run the control plane HTTP API on the embedded SQLite store (or the store named by --db)',
    load: async () => (await import('./commands/serve.js')).registerServe,
  },
  {
    name: 'eval',
    term: 'eval [options]',
    description:
      'decide Actions (JSON lines) without side effects; one Decision per line, in order ({"observation": …} lines are learnt)',
    load: async () => (await import('./commands/eval.js')).registerEval,
  },
  {
    name: 'policy',
    term: 'policy',
    description: 'work with policy files',
    load: async () => (await import('./commands/policy.js')).registerPolicy,
  },
  {
    name: 'kill',
    term: 'kill [options] [agent]',
    description:
      'stop an agent (or every agent with --all): its actions are denied and in-flight runs aborted, in every process sharing the store',
    load: async () => (await import('./commands/killswitch.js')).registerKillSwitch,
  },
  {
    name: 'revive',
    term: 'revive [options] [agent]',
    description: 'lift the stop of an agent (or the global stop with --all)',
    load: async () => (await import('./commands/killswitch.js')).registerKillSwitch,
  },
  {
    name: 'audit',
    term: 'audit',
    description: 'inspect and verify the tamper-evident audit log',
    load: async () => {
      // `audit verify-export` is the incident module's.
      const [{ registerAudit }, { registerIncident }] = await Promise.all([
        import('./commands/audit.js'),
        import('./commands/incident.js'),
      ]);
      return (program) => {
        registerAudit(program);
        registerIncident(program);
      };
    },
  },
  {
    name: 'approvals',
    term: 'approvals',
    description: 'list and decide pending approval requests',
    load: async () => (await import('./commands/approvals.js')).registerApprovals,
  },
  {
    name: 'token',
    term: 'token',
    description: 'manage the bearer tokens of the HTTP API',
    load: async () => (await import('./commands/token.js')).registerToken,
  },
  {
    name: 'mcp',
    term: 'mcp [options] [command...]',
    description: 'an MCP gateway on stdio: proxies an upstream MCP server through Warden (and `mcp pins`)',
    load: async () => (await import('./commands/mcp.js')).registerMcp,
  },
  {
    name: 'limits',
    term: 'limits [options]',
    description: "show each agent's usage against its rate, budget, step, duration and loop limits",
    load: async () => (await import('./commands/limits.js')).registerLimits,
  },
  {
    name: 'run',
    term: 'run [options] <command...>',
    description:
      "run a command in the sandbox of the policy's `sandbox` section (no network, limits, removed after)",
    load: async () => (await import('./commands/run.js')).registerRun,
  },
  {
    name: 'sandbox',
    term: 'sandbox',
    description: 'the sandbox that runs shell.exec and code.exec (see docs/sandbox.md)',
    load: async () => (await import('./commands/sandbox.js')).registerSandbox,
  },
  {
    name: 'incident',
    term: 'incident',
    description:
      'incident response: revoke and restore grants, preserve evidence, report, prevent a recurrence',
    load: async () => (await import('./commands/incident.js')).registerIncident,
  },
  {
    name: 'redteam',
    term: 'redteam [options]',
    description: "run Warden's attack corpus and its variants against a policy, as each of its agents",
    load: async () => (await import('./commands/redteam.js')).registerRedteam,
  },
  {
    name: 'check',
    term: 'check [options]',
    description: "the guide's pre-launch checklist, audited: pass / warn / fail, why, and the exact fix",
    load: async () => (await import('./commands/check.js')).registerCheck,
  },
];

/**
 * Registers on `program` the command `argv` names, loading only its module; with no known command
 * (`warden`, `warden --help`, a typo) every command is listed from the index, nothing loaded.
 * `warden help <command>` loads that command, as its `--help` does.
 */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const args = argv.slice(2);
  let name = args.find((a) => !a.startsWith('-'));
  if (name === 'help') name = args[args.indexOf('help') + 1];
  const named = COMMANDS.find((c) => c.name === name);
  if (named) {
    (await named.load())(program);
    return;
  }
  const terms = new Map(COMMANDS.map((c) => [c.name, c.term]));
  const plain = new Help();
  program.configureHelp({
    subcommandTerm: (cmd) => terms.get(cmd.name()) ?? plain.subcommandTerm(cmd),
  });
  for (const c of COMMANDS) program.command(c.name).description(c.description);
}
