#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { LimitsConfigError } from '../limits/open-backend.js';
import { registerApprovals } from './commands/approvals.js';
import { registerAudit } from './commands/audit.js';
import { registerCheck } from './commands/check.js';
import { registerEval } from './commands/eval.js';
import { registerIncident } from './commands/incident.js';
import { registerKillSwitch } from './commands/killswitch.js';
import { registerLimits } from './commands/limits.js';
import { registerMcp } from './commands/mcp.js';
import { registerPolicy } from './commands/policy.js';
import { registerRedteam } from './commands/redteam.js';
import { registerRun } from './commands/run.js';
import { registerSandbox } from './commands/sandbox.js';
import { registerServe } from './commands/serve.js';
import { registerToken } from './commands/token.js';
import { CliError } from './common.js';

const program = new Command('warden')
  .description('Guardrails for autonomous AI agents: decide, approve, execute safely, audit, and stop them.')
  .version('0.1.0')
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

registerServe(program);
registerEval(program);
registerPolicy(program);
registerKillSwitch(program);
registerAudit(program);
registerApprovals(program);
registerToken(program);
registerMcp(program);
registerLimits(program);
registerRun(program);
registerSandbox(program);
registerIncident(program);
registerRedteam(program);
registerCheck(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Commander has already printed its message (or the help / version).
    process.exit(error.exitCode === 0 ? 0 : 2);
  }
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
