import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CheckResult } from '../../check/check-types.js';
import type { Store } from '../../store/store.js';
import { CliError, DEFAULT_DB, loadPolicyOrExit, openStore, printJson } from '../common.js';

interface CheckOptions {
  policy?: string;
  db?: string;
  url?: string;
  token?: string;
  repo?: string;
  json?: boolean;
  sendTest?: boolean;
  embedded?: boolean;
}

/** `warden check`: the pre-launch checklist, each item audited on the policy and the deployment. */
export function registerCheck(program: Command): void {
  program
    .command('check')
    .description("the guide's pre-launch checklist, audited: pass / warn / fail, why, and the exact fix")
    .option('--policy <file>', 'the policy (default ./warden.yaml)')
    .option(
      '--db <file>',
      `the store \`warden serve\` uses (default ${DEFAULT_DB} or $WARDEN_DB, when it exists)`,
    )
    .option('--url <url>', 'a running `warden serve` to check instead of a store (with --token)')
    .option('--token <token>', 'an admin token for --url (default $WARDEN_TOKEN)')
    .option('--repo <dir>', 'scan this directory for hard-coded API keys (secretlint)')
    .option('--send-test', 'send a test alert through every configured sink')
    .option('--embedded', 'Warden runs embedded (createWarden): monitoring left off is a failure')
    .option('--json', 'print the results as JSON (for CI)')
    .addHelpText(
      'after',
      [
        '',
        'Items: least privilege (wildcard grants, destructive actions without approval), a working',
        'sandbox (one is started), approval gates on high and critical risk, rate limits and budgets',
        'for every agent, structured logging and monitoring, cost alerts, alert sinks (reached with',
        '--send-test), the kill switch (a scratch agent killed and revived), the audit chain and a',
        'recent checkpoint, a recent red-team run of this policy (`warden redteam`), no API keys in',
        "--repo, the policy's own files protected from the agents.",
        '',
        'Exit status: 0 when nothing fails (warnings allowed); 1 when an item fails; 2 for bad usage.',
        '',
        'Examples:',
        '  warden check --policy warden.yaml --db .warden/warden.db --repo .',
        '  warden check --url http://127.0.0.1:8787 --token "$WARDEN_ADMIN_TOKEN" --send-test --json',
      ].join('\n'),
    )
    .action(async (opts: CheckOptions) => {
      const policyFile = opts.policy ?? 'warden.yaml';
      if (!existsSync(policyFile))
        throw new CliError(
          `no policy at \`${policyFile}\`: pass --policy FILE (see examples/ for policies to start from)`,
        );
      const policy = loadPolicyOrExit(policyFile);
      const token = opts.token ?? process.env.WARDEN_TOKEN;
      if (opts.url && !token)
        throw new CliError('--url needs an admin token: pass --token or set WARDEN_TOKEN');
      if (opts.url && opts.db) throw new CliError('give --url or --db, not both');
      let store: Store | undefined;
      const dbPath = resolve(opts.db ?? process.env.WARDEN_DB ?? DEFAULT_DB);
      if (!opts.url && (opts.db || existsSync(dbPath))) store = await openStore(dbPath, { mustExist: true });
      const { runCheck } = await import('../../check/run-check.js');
      let results: CheckResult[];
      try {
        results = await runCheck({
          policy,
          policyFile,
          ...(store ? { store } : {}),
          dbPath,
          ...(opts.url && token ? { server: { url: opts.url, token } } : {}),
          ...(opts.repo ? { repo: resolve(opts.repo) } : {}),
          sendTest: opts.sendTest === true,
          embedded: opts.embedded === true,
          now: new Date(),
        });
      } finally {
        await store?.close();
      }
      const failed = results.filter((r) => r.status === 'fail').length;
      if (opts.json) printJson({ policy: policyFile, ok: failed === 0, results });
      else process.stdout.write(formatResults(results));
      process.exitCode = failed > 0 ? 1 : 0;
    });
}

const MARK = { pass: 'pass', warn: 'WARN', fail: 'FAIL' } as const;

/** The table: status, item, why; the fix indented under each warning and failure. */
export function formatResults(results: readonly CheckResult[]): string {
  const width = Math.max(...results.map((r) => r.title.length));
  const lines: string[] = [];
  for (const r of results) {
    lines.push(`${MARK[r.status].padEnd(4)}  ${r.title.padEnd(width)}  ${r.why}`);
    if (r.fix)
      for (const line of r.fix.split('\n'))
        lines.push(`${''.padEnd(6 + width)}  ${line === r.fix.split('\n')[0] ? 'fix: ' : '     '}${line}`);
  }
  const count = (s: CheckResult['status']) => results.filter((r) => r.status === s).length;
  lines.push('', `${count('pass')} pass, ${count('warn')} warn, ${count('fail')} fail`);
  return `${lines.join('\n')}\n`;
}
