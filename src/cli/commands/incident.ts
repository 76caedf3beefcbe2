import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { AuditLog } from '../../audit/audit-log.js';
import { type Evidence, preserveEvidence, verifyEvidence } from '../../incident/evidence.js';
import { proposePrevention } from '../../incident/prevent.js';
import { reportHtml, reportMarkdown } from '../../incident/render.js';
import { buildIncidentReport, type IncidentReport } from '../../incident/report.js';
import { PolicyError } from '../../policy/policy-error.js';
import { durationMs } from '../../policy/schema.js';
import { Overrides } from '../../store/overrides.js';
import { CliError, openStore, printJson } from '../common.js';

const DB = [
  '--db <file|url>',
  'store: a SQLite file or a postgres:// URL (default .warden/warden.db or $WARDEN_DB)',
] as const;
const operator = () => `cli:${process.env.USER ?? userInfo().username}`;

/** `2026-01-01T10:00:00Z`, `2026-01-01`, or a duration ago: `30m`, `2h`, `7d`. */
export function parseWhen(value: string, flag: string): Date {
  if (/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/.test(value)) return new Date(Date.now() - durationMs(value));
  const t = Date.parse(value);
  if (Number.isNaN(t)) {
    throw new CliError(
      `${flag} \`${value}\`: expected an ISO time such as \`2026-01-31T09:00:00Z\` or a duration ago such as \`2h\``,
    );
  }
  return new Date(t);
}

function write(out: string | undefined, text: string): void {
  if (out) writeFileSync(out, text);
  else process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function registerIncident(program: Command): void {
  const incident = program
    .command('incident')
    .description(
      'incident response: revoke and restore grants, preserve evidence, report, prevent a recurrence',
    );

  const override = (
    name: string,
    description: string,
    change: 'revoke' | 'approve-all',
    done: (agent: string) => string,
  ) =>
    incident
      .command(name)
      .description(description)
      .requiredOption('--agent <name>', 'the agent')
      .option('--reason <text>', 'why: recorded in the audit log and shown to the agent', '')
      .option('--by <name>', 'who is doing it (default: cli:$USER)')
      .option(...DB)
      .option('--json', 'print the result as JSON')
      .action(async (opts: { agent: string; reason: string; by?: string; db?: string; json?: boolean }) => {
        await withOverrides(opts.db, async (o) => {
          const changed = await o.change(opts.agent, change, opts.by ?? operator(), opts.reason);
          if (opts.json) printJson({ agent: opts.agent, change, changed });
          else
            process.stdout.write(
              changed
                ? `${done(opts.agent)}\n`
                : `agent ${opts.agent}: already ${change === 'revoke' ? 'revoked' : 'under approve-all'}\n`,
            );
        });
      });

  override(
    'revoke',
    "revoke an agent's grants: every action it proposes is denied (`permissions.revoked`) in every process sharing the store, until restored",
    'revoke',
    (a) => `revoked the grants of agent ${a}`,
  );
  override(
    'require-approval',
    'make every action of an agent wait for human approval (`rules.approval-override`), until restored',
    'approve-all',
    (a) => `every action of agent ${a} now needs approval`,
  );

  incident
    .command('restore')
    .description(
      'give an agent its grants back, lift an approval-for-everything override and give back its rate limits after `tighten-limits` (each is audited)',
    )
    .requiredOption('--agent <name>', 'the agent')
    .option('--reason <text>', 'why: recorded in the audit log', '')
    .option('--by <name>', 'who is doing it (default: cli:$USER)')
    .option(...DB)
    .option('--json', 'print the result as JSON')
    .action(async (opts: { agent: string; reason: string; by?: string; db?: string; json?: boolean }) => {
      await withOverrides(opts.db, async (o) => {
        const by = opts.by ?? operator();
        const restored = await o.change(opts.agent, 'restore', by, opts.reason);
        const cleared = await o.change(opts.agent, 'clear-approve-all', by, opts.reason);
        const limitsRestored = await o.change(opts.agent, 'clear-tighten', by, opts.reason);
        if (opts.json) printJson({ agent: opts.agent, restored, cleared, limitsRestored });
        else if (!restored && !cleared && !limitsRestored)
          throw new CliError(
            `agent ${opts.agent} has no revocation, approval override or tightened rate limits`,
            1,
          );
        else
          process.stdout.write(
            `agent ${opts.agent}: ${[restored ? 'grants restored' : '', cleared ? 'approval override lifted' : '', limitsRestored ? 'rate limits back to the policy' : ''].filter(Boolean).join(', ')}\n`,
          );
      });
    });

  incident
    .command('preserve')
    .description(
      "export an agent's audit records with the chain proof (each record's hash and its predecessor's, and the head), for evidence",
    )
    .requiredOption('--agent <name>', 'the agent')
    .requiredOption('--out <file>', 'where to write the evidence (JSON)')
    .option(...DB)
    .addHelpText(
      'after',
      '\nVerify the file later with `warden audit verify-export FILE` (add --db to compare with the live chain).',
    )
    .action(async (opts: { agent: string; out: string; db?: string }) => {
      const store = await openStore(opts.db, { mustExist: true });
      try {
        const evidence = await preserveEvidence(store.audit, opts.agent);
        writeFileSync(opts.out, `${JSON.stringify(evidence, null, 1)}\n`, { mode: 0o600 });
        process.stdout.write(
          `preserved ${evidence.records.length} records of agent ${opts.agent} in ${opts.out}; head ${evidence.head?.seq ?? 0} ${evidence.head?.hash ?? ''}; chain ${evidence.chainVerified ? 'verified' : 'DID NOT VERIFY (run warden audit verify)'}\n`,
        );
      } finally {
        await store.close();
      }
    });

  incident
    .command('report')
    .description(
      'timeline, cost, damage, denials, anomalies and root-cause candidates of an agent over a window',
    )
    .requiredOption('--agent <name>', 'the agent')
    .requiredOption('--since <time>', 'start: ISO time, or a duration ago such as `2h`')
    .option('--until <time>', 'end: ISO time, or a duration ago (default now)')
    .option('--format <format>', 'md, html or json', 'md')
    .option('--out <file>', 'write here instead of stdout')
    .option(...DB)
    .action(
      async (opts: {
        agent: string;
        since: string;
        until?: string;
        format: string;
        out?: string;
        db?: string;
      }) => {
        if (!['md', 'html', 'json'].includes(opts.format)) {
          throw new CliError(`--format \`${opts.format}\`: expected md, html or json`);
        }
        const since = parseWhen(opts.since, '--since');
        const until = opts.until ? parseWhen(opts.until, '--until') : new Date();
        if (until < since) throw new CliError('--until is before --since');
        const store = await openStore(opts.db, { mustExist: true });
        try {
          const report = await buildIncidentReport(store.audit, opts.agent, since, until);
          const text =
            opts.format === 'json'
              ? JSON.stringify(report, null, 2)
              : opts.format === 'html'
                ? reportHtml(report)
                : reportMarkdown(report);
          write(opts.out, text);
        } finally {
          await store.close();
        }
      },
    );

  incident
    .command('prevent')
    .description(
      'propose policy rules and rate limits that would have stopped the incident, as a unified diff of the policy file',
    )
    .requiredOption('--report <file>', 'a report from `warden incident report --format json`')
    .option('--policy <file>', 'the policy to change', 'warden.yaml')
    .option('--write', 'apply the proposal to the policy file')
    .option('--json', 'print the proposals, advice and diff as JSON')
    .action(async (opts: { report: string; policy: string; write?: boolean; json?: boolean }) => {
      let report: IncidentReport;
      try {
        report = JSON.parse(readFileSync(opts.report, 'utf8')) as IncidentReport;
      } catch (error) {
        throw new CliError(
          `--report \`${opts.report}\`: cannot read it as JSON (${(error as Error).message}); write one with \`warden incident report --format json --out FILE\``,
        );
      }
      if (report?.format !== 'warden.incident-report/1') {
        throw new CliError(
          `--report \`${opts.report}\`: not a JSON incident report; use \`warden incident report --format json\``,
        );
      }
      let policyText: string;
      try {
        policyText = readFileSync(opts.policy, 'utf8');
      } catch {
        throw new CliError(`--policy \`${opts.policy}\`: no such file; pass the policy the agent runs under`);
      }
      let prevention: ReturnType<typeof proposePrevention>;
      try {
        prevention = proposePrevention(report, policyText, opts.policy);
      } catch (error) {
        if (error instanceof PolicyError)
          throw new CliError(`the proposal would not load:\n${error.message}`, 1);
        throw error;
      }
      // INVARIANT: the diff is empty exactly when nothing is proposed.
      const changed = prevention.diff !== '';
      if (opts.write && changed) writeFileSync(opts.policy, prevention.after);
      if (opts.json) {
        printJson({
          proposals: prevention.proposals,
          rates: prevention.rates,
          advice: prevention.advice,
          diff: prevention.diff,
          written: Boolean(opts.write && changed),
        });
        return;
      }
      if (!changed) process.stdout.write('no policy change to propose from this report\n');
      else process.stdout.write(prevention.diff);
      for (const a of prevention.advice) process.stderr.write(`advice: ${a}\n`);
      if (opts.write && changed) process.stderr.write(`wrote ${opts.policy}\n`);
    });

  const audit = program.commands.find((c) => c.name() === 'audit') ?? program.command('audit');
  audit
    .command('verify-export')
    .description('verify an evidence file from `warden incident preserve`: every record re-hashes and links')
    .argument('<file>', 'the evidence file')
    .option('--db <file>', 'also compare each record with the live store')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExit status: 0 when the export verifies, 1 when it does not.')
    .action(async (file: string, opts: { db?: string; json?: boolean }) => {
      let evidence: Evidence;
      try {
        evidence = JSON.parse(readFileSync(file, 'utf8')) as Evidence;
      } catch (error) {
        throw new CliError(`\`${file}\`: cannot read it as JSON (${(error as Error).message})`);
      }
      let stored: Map<number, string> | undefined;
      if (opts.db) {
        const store = await openStore(opts.db, { mustExist: true });
        try {
          stored = new Map();
          for (const r of evidence.records ?? []) {
            const live = (await store.audit.query({ afterSeq: r.seq - 1, limit: 1 }))[0];
            if (live && live.seq === r.seq) stored.set(r.seq, live.hash);
          }
        } finally {
          await store.close();
        }
      }
      const result = verifyEvidence(evidence, stored);
      if (opts.json) printJson(result);
      else if (result.ok)
        process.stdout.write(
          `ok: ${result.records} records verify${stored ? ' and match the store' : ''}; head ${evidence.head?.seq ?? 0} ${evidence.head?.hash ?? ''}\n`,
        );
      else for (const p of result.problems) process.stdout.write(`TAMPERED: record ${p.seq}: ${p.problem}\n`);
      if (!result.ok) process.exitCode = 1;
    });
}

async function withOverrides(db: string | undefined, fn: (o: Overrides) => Promise<void>): Promise<void> {
  const store = await openStore(db, { mustExist: true });
  const audit = new AuditLog(store.audit);
  const overrides = new Overrides(store.audit, audit);
  try {
    await overrides.start();
    await fn(overrides);
  } finally {
    await audit.close();
    await store.close();
  }
}
