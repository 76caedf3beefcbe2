import { existsSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { RedteamReport } from '../../redteam/run.js';
import { CliError, DEFAULT_DB, loadPolicyOrExit, openStore, printJson } from '../common.js';

interface RedteamOptions {
  policy: string;
  agent?: string[];
  out?: string;
  json?: boolean;
  variants: string;
  seed: string;
  db?: string;
  record: boolean;
}

/** `warden redteam`: the shipped attack corpus, with variants, against a policy's agents. */
export function registerRedteam(program: Command): void {
  program
    .command('redteam')
    .description("run Warden's attack corpus and its variants against a policy, as each of its agents")
    .requiredOption('--policy <file>', 'the policy to attack')
    .option('--agent <name...>', 'only these agents (default: every agent of the policy)')
    .option('--out <file>', 'write a self-contained HTML report here (one chart per category)')
    .option('--json', 'print the whole report as JSON')
    .option('--variants <n>', 'variants generated per attack case', '3')
    .option('--seed <n>', 'seed of the variant generator (same seed, same variants)', '19')
    .option('--db <file>', `store to record the run in (default ${DEFAULT_DB} or $WARDEN_DB, when it exists)`)
    .option('--no-record', 'do not record the run in the audit log')
    .addHelpText(
      'after',
      [
        '',
        'Categories: files, SQL, HTTP/SSRF, shell, code, loops and resource exhaustion, approval',
        'abuse, prompt injection via observations. Every case is decided with check() (nothing runs)',
        'as if the agent had sent it, with a sandbox assumed present; bursts go through decide() on',
        'an in-memory store so rate and step limits count. An attack is blocked when the decision is',
        'deny or ask; benign cases that a guard or rule denies are listed as false denials.',
        '',
        'The run is recorded in the audit log (a `redteam.run` record) so `warden check` can see it.',
        '',
        'Exit status: 0 when every attack in a category an agent is granted is blocked; 1 when one',
        'is allowed (each is listed); 2 for bad usage or an invalid policy.',
        '',
        'Examples:',
        '  warden redteam --policy warden.yaml --out redteam.html',
        '  warden redteam --policy warden.yaml --agent coding-agent --variants 20 --json | jq .ok',
      ].join('\n'),
    )
    .action(async (opts: RedteamOptions) => {
      const variants = wholeNumber(opts.variants, '--variants');
      const seed = wholeNumber(opts.seed, '--seed');
      const policy = loadPolicyOrExit(opts.policy);
      // A run of its own: the user's monitoring settings are not what is being tested here.
      policy.config.monitoring.enabled = false;
      const { runRedteam } = await import('../../redteam/run.js');
      let report: RedteamReport;
      try {
        report = await runRedteam(policy, { variants, seed, ...(opts.agent ? { agents: opts.agent } : {}) });
      } catch (error) {
        throw new CliError((error as Error).message, 2);
      }
      if (opts.out) {
        const { renderRedteamHtml } = await import('../../redteam/html.js');
        writeFileSync(opts.out, renderRedteamHtml(report));
      }
      const recorded = opts.record ? await record(report, opts.db) : 'not recorded (--no-record)';
      if (opts.json) printJson({ ...report, recorded });
      else process.stdout.write(formatReport(report, opts.out, recorded));
      process.exitCode = report.ok ? 0 : 1;
    });
}

function wholeNumber(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new CliError(`${flag} \`${text}\`: expected a whole number`);
  return n;
}

/** Appends the `redteam.run` record to the store, when there is one to append to. */
async function record(report: RedteamReport, db: string | undefined): Promise<string> {
  const path = resolve(db ?? process.env.WARDEN_DB ?? DEFAULT_DB);
  if (!db && !existsSync(path)) return `not recorded: no store at ${path} (pass --db)`;
  const store = await openStore(path);
  try {
    const { redteamEntry } = await import('../../redteam/record.js');
    const actor = `cli:${process.env.USER ?? userInfo().username}`;
    const [rec] = await store.audit.append([redteamEntry(report, actor)]);
    return `recorded in ${path} as audit record ${rec?.seq}`;
  } finally {
    await store.close();
  }
}

/** The table: one line per agent and category, then the allowed attacks and false denials. */
export function formatReport(r: RedteamReport, out: string | undefined, recorded: string): string {
  const lines = [
    `policy ${r.policy}: ${r.checks} decisions in ${(r.elapsedMs / 1000).toFixed(1)} s (${r.checksPerSecond}/s), seed ${r.seed}, ${r.variants} variants per attack`,
    '',
    `${'agent'.padEnd(18)} ${'category'.padEnd(10)} ${'attacks blocked'.padEnd(16)} ${'allowed'.padEnd(8)} benign ok/ask/out-of-scope/wrongly denied`,
  ];
  for (const a of r.agents)
    for (const c of a.categories) {
      const blocked = `${c.blocked}/${c.attacks}${c.covered ? '' : ' (n/a)'}`;
      const benign = `${c.benignAllowed}/${c.benignAsked}/${c.benignOutOfScope}/${c.falseDenies.length}`;
      lines.push(
        `${a.agent.padEnd(18)} ${c.category.padEnd(10)} ${blocked.padEnd(16)} ${String(c.allowed.length).padEnd(8)} ${benign}`,
      );
    }
  for (const a of r.agents)
    for (const c of a.categories) {
      for (const o of c.allowed) lines.push(`ALLOWED  ${a.agent} ${o.id}: ${o.action}`);
      for (const o of c.falseDenies)
        lines.push(`denied benign  ${a.agent} ${o.id}: ${o.code} ${o.message ?? ''}`);
    }
  if (r.observations === 'not-available')
    lines.push(
      '',
      'note: injection cases were sent as actions only; warden.observe() is not available in this build',
    );
  lines.push('', r.ok ? 'ok: no attack allowed' : 'FAIL: attacks allowed (listed above)', recorded);
  if (out) lines.push(`report: ${out}`);
  return `${lines.join('\n')}\n`;
}
