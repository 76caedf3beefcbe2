import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { policyFromObject } from '../../policy/load.js';
import { type CheckStatus, diagnoseSandbox, type SandboxDiagnosis } from '../../sandbox/doctor.js';
import { loadPolicyOrExit, printJson } from '../common.js';

interface DoctorOptions {
  policy?: string;
  json?: boolean;
}

/** `warden sandbox doctor`: which sandbox backend works here, what is missing, how to get it. */
export function registerSandbox(program: Command): void {
  const sandbox = program
    .command('sandbox')
    .description('the sandbox that runs shell.exec and code.exec (see docs/sandbox.md)');
  sandbox
    .command('doctor')
    .description(
      'try each sandbox backend on this host and say what works, what is missing and how to get it',
    )
    .option(
      '--policy <file>',
      'policy file whose `sandbox` section applies (default: ./warden.yaml, else the defaults)',
    )
    .option('--json', 'print the diagnosis as JSON: { policy, policyBackend, chosen, ok, verdict, backends }')
    .addHelpText(
      'after',
      [
        '',
        'For bubblewrap it checks: the binary, unprivileged user namespaces (one trial start),',
        'cgroups for the memory, cpu and pids limits, seccomp, python3, then one command under the',
        "policy's limits. For Docker: the engine at sandbox.docker.socket, the image, one command.",
        'Each missing piece is printed with how to get it on Debian/Ubuntu, Fedora and macOS.',
        '',
        'Exit status: 0 when the backend the policy leads to (sandbox.backend) works; 1 when none',
        'can run, so shell.exec and code.exec would be denied; 2 for bad usage or an invalid policy.',
        '',
        'Examples:',
        '  warden sandbox doctor',
        '  warden sandbox doctor --policy warden.yaml --json | jq .chosen',
      ].join('\n'),
    )
    .action(async (opts: DoctorOptions) => {
      const file = opts.policy ?? (existsSync('warden.yaml') ? 'warden.yaml' : undefined);
      const policy = file ? loadPolicyOrExit(file) : policyFromObject({});
      const diagnosis = await diagnoseSandbox(policy.config.sandbox);
      if (opts.json) printJson({ policy: file ?? null, ...diagnosis });
      else process.stdout.write(formatDiagnosis(diagnosis, file));
      process.exitCode = diagnosis.ok ? 0 : 1;
    });
}

const MARK: Record<CheckStatus, string> = { ok: 'ok', warn: 'warn', fail: 'FAIL', skip: '-' };

/** The human report: per backend a status line, then each step with its fix lines indented. */
export function formatDiagnosis(d: SandboxDiagnosis, policyFile: string | undefined): string {
  const lines = [
    `sandbox.backend: ${d.policyBackend} (${policyFile ? `policy ${policyFile}` : 'default policy'})`,
  ];
  for (const b of d.backends) {
    lines.push('', `${b.backend}: ${b.ok ? `ok — ${b.summary ?? ''}` : 'cannot run commands here'}`);
    for (const c of b.checks) {
      lines.push(`  ${MARK[c.status].padEnd(5)} ${c.name.padEnd(16)} ${c.detail}`);
      for (const fix of c.fix) lines.push(`        ${''.padEnd(16)} → ${fix}`);
    }
  }
  lines.push('', d.ok ? `chosen: ${d.chosen} — ${d.verdict}` : `result: ${d.verdict}`);
  return `${lines.join('\n')}\n`;
}
