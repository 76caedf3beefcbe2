import { existsSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import type { Command } from 'commander';
import { policyFromObject } from '../../policy/load.js';
import { chooseSandbox } from '../../sandbox/choose-sandbox.js';
import { SandboxError, type SandboxResult } from '../../sandbox/sandbox.js';
import { CliError, loadPolicyOrExit, printJson } from '../common.js';

interface RunOptions {
  policy?: string;
  json?: boolean;
  stdin?: boolean;
}

/** `warden run -- CMD …`: one command in the policy's sandbox, with its limits, from the shell. */
export function registerRun(program: Command): void {
  program
    .command('run')
    .description(
      "run a command in the sandbox of the policy's `sandbox` section (no network, limits, removed after)",
    )
    .argument('<command...>', 'the program and its arguments, after `--`')
    .option(
      '--policy <file>',
      'policy file whose `sandbox` section applies (default: ./warden.yaml, else the defaults)',
    )
    .option(
      '--json',
      'print one JSON object: the backend chosen and the result (exit code, streams, limits, violations)',
    )
    .option('--stdin', "pass this process's stdin to the command (default: the command's stdin is empty)")
    .addHelpText(
      'after',
      [
        '',
        "Exit status: the command's own; 128+N when signal N ended it (137 for a limit or the timeout);",
        '2 for bad usage or an invalid policy; 3 when no sandbox can run here or the host cannot enforce the limits.',
        '',
        'Examples:',
        "  warden run -- python3 -c 'print(1+1)'",
        '  warden run --policy warden.yaml --json -- sh -c "ls -la /"',
      ].join('\n'),
    )
    .action(async (argv: string[], opts: RunOptions) => {
      const file = opts.policy ?? (existsSync('warden.yaml') ? 'warden.yaml' : undefined);
      const policy = file ? loadPolicyOrExit(file) : policyFromObject({});
      // One command: no sandbox is worth pre-starting for a next run that never comes.
      const choice = await chooseSandbox({ ...policy.config.sandbox, warm: 0 });
      const sandbox = choice.sandbox;
      if (!sandbox) {
        throw new CliError(
          choice.problem
            ? `no sandbox can run commands here: ${choice.problem}`
            : 'sandbox.backend is `none` in the policy: nothing can run',
          3,
        );
      }
      const stdin = opts.stdin ? await text(process.stdin) : undefined;
      const stop = new AbortController();
      const onSignal = () => stop.abort('interrupted');
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      let result: SandboxResult;
      try {
        result = await sandbox.run({ argv, signal: stop.signal, ...(stdin !== undefined ? { stdin } : {}) });
      } catch (error) {
        if (error instanceof SandboxError) throw new CliError(`${error.code}: ${error.message}`, 3);
        throw error;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await sandbox.close();
      }
      const exit = result.exitCode ?? 137;
      if (opts.json) {
        printJson({ sandbox: { backend: choice.backend, summary: choice.summary }, result });
      } else {
        process.stdout.write(result.stdout.text);
        process.stderr.write(result.stderr.text);
        if (result.stderr.text && !result.stderr.text.endsWith('\n') && result.violations.length > 0)
          process.stderr.write('\n');
      }
      process.exitCode = exit;
    });
}
