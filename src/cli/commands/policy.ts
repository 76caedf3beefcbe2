import type { Command } from 'commander';
import { loadPolicyFile } from '../../policy/load.js';
import { PolicyError } from '../../policy/policy-error.js';
import { CliError, printJson } from '../common.js';

export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('work with policy files');
  policy
    .command('validate <file>')
    .description('check a policy file; errors name the file, line and field')
    .option('--json', 'print the result as JSON')
    .action((file: string, opts: { json?: boolean }) => {
      try {
        const compiled = loadPolicyFile(file);
        const summary = {
          valid: true,
          file,
          agents: compiled.agents.size,
          rules: compiled.config.rules.length,
        };
        if (opts.json) printJson(summary);
        else process.stdout.write(`${file}: valid (${summary.agents} agents, ${summary.rules} rules)\n`);
      } catch (error) {
        if (!(error instanceof PolicyError)) throw error;
        if (opts.json) {
          printJson({ valid: false, file, issues: error.issues });
          process.exitCode = 2;
          return;
        }
        throw new CliError(`invalid policy:\n${error.message}`, 2);
      }
    });
}
