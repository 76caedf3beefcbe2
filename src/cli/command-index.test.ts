import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { COMMANDS, registerCommands } from './command-index.js';

function program(): Command {
  return new Command('warden').description('d').exitOverride();
}

test('`warden --help` lists every command as its module registers it, without loading any', async () => {
  const light = program();
  await registerCommands(light, ['node', 'warden', '--help']);
  const full = program();
  // Every module, in the order the commands are listed.
  const modules = [
    (await import('./commands/serve.js')).registerServe,
    (await import('./commands/eval.js')).registerEval,
    (await import('./commands/policy.js')).registerPolicy,
    (await import('./commands/killswitch.js')).registerKillSwitch,
    (await import('./commands/audit.js')).registerAudit,
    (await import('./commands/approvals.js')).registerApprovals,
    (await import('./commands/token.js')).registerToken,
    (await import('./commands/mcp.js')).registerMcp,
    (await import('./commands/limits.js')).registerLimits,
    (await import('./commands/run.js')).registerRun,
    (await import('./commands/sandbox.js')).registerSandbox,
    (await import('./commands/incident.js')).registerIncident,
    (await import('./commands/redteam.js')).registerRedteam,
    (await import('./commands/check.js')).registerCheck,
  ];
  for (const register of modules) register(full);
  assert.equal(full.commands.length, COMMANDS.length);
  assert.equal(light.helpInformation(), full.helpInformation());
});

test('a command named on the command line is registered with all its subcommands', async () => {
  const p = program();
  await registerCommands(p, ['node', 'warden', 'mcp', '--policy', 'x.yaml', '--', 'server']);
  const mcp = p.commands.find((c) => c.name() === 'mcp');
  assert.ok(mcp?.commands.some((c) => c.name() === 'pins'));
  const help = program();
  await registerCommands(help, ['node', 'warden', 'help', 'audit']);
  const audit = help.commands.find((c) => c.name() === 'audit');
  assert.ok(audit?.commands.some((c) => c.name() === 'verify-export'));
});
