import { Command, CommanderError } from 'commander';
import { CliError } from './cli-error.js';
import { registerCommands } from './command-index.js';

/** The `warden` command line: parses `argv` (as `process.argv`), runs the command, exits on errors. */
export async function runCli(argv: string[]): Promise<void> {
  const program = new Command('warden')
    .description(
      'Guardrails for autonomous AI agents: decide, approve, execute safely, audit, and stop them.',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  // The upstream server `bin/warden` started for `warden mcp`: stopped on exit unless adopted.
  if (process.env.WARDEN_MCP_STARTED !== undefined) {
    (await import('./commands/mcp-handover.js')).takeHandover(argv);
  }
  await registerCommands(program, argv);

  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message (or the help / version).
      process.exit(error.exitCode === 0 ? 0 : 2);
    }
    // Loaded only on this path: the limits module brings the policy schema.
    const { LimitsConfigError } = await import('../limits/open-backend.js');
    if (error instanceof LimitsConfigError) {
      process.stderr.write(`warden: ${error.message}\n`);
      process.exit(2);
    }
    if (error instanceof CliError) {
      process.stderr.write(`warden: ${error.message}\n`);
      process.exit(error.exitCode);
    }
    process.stderr.write(
      `warden: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  }
}
