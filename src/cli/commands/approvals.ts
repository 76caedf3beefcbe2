import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { Approvals } from '../../approvals/approvals.js';
import { AuditLog } from '../../audit/audit-log.js';
import type { ApprovalRecord } from '../../store/store.js';
import { CliError, openStore, printJson } from '../common.js';

async function withApprovals<T>(db: string | undefined, fn: (a: Approvals) => Promise<T>): Promise<T> {
  const store = await openStore(db, { mustExist: true });
  const audit = new AuditLog(store.audit);
  try {
    return await fn(new Approvals(store.approvals, audit));
  } finally {
    await audit.close();
    await store.close();
  }
}

const line = (r: ApprovalRecord) =>
  `${r.id}  ${r.status.padEnd(8)} ${r.agent.padEnd(16)} ${r.action.type.padEnd(16)} ${r.decision.risk.padEnd(11)} ${r.votes.filter((v) => v.vote === 'approve').length}/${r.required}  expires ${r.expiresAt}`;

export function registerApprovals(program: Command): void {
  const approvals = program.command('approvals').description('list and decide pending approval requests');
  approvals
    .command('list')
    .description('pending requests (or --status approved|denied|expired|cancelled)')
    .option('--status <status>', 'which requests', 'pending')
    .option(
      '--db <file|url>',
      'store: a SQLite file or a postgres:// URL (default .warden/warden.db or $WARDEN_DB)',
    )
    .option('--json', 'print as JSON')
    .action(async (opts: { status: ApprovalRecord['status']; db?: string; json?: boolean }) => {
      const list = await withApprovals(opts.db, (a) => a.list(opts.status));
      if (opts.json) printJson({ approvals: list });
      else
        process.stdout.write(
          list.length === 0 ? `no ${opts.status} approvals\n` : `${list.map(line).join('\n')}\n`,
        );
    });
  approvals
    .command('show <id>')
    .description('one request in full: the action, its digest, the reasons and the votes')
    .option(
      '--db <file|url>',
      'store: a SQLite file or a postgres:// URL (default .warden/warden.db or $WARDEN_DB)',
    )
    .action(async (id: string, opts: { db?: string }) => {
      const record = await withApprovals(opts.db, (a) => a.get(id));
      if (!record)
        throw new CliError(`no approval request \`${id}\`; list them with \`warden approvals list\``, 1);
      printJson(record);
    });
  approvals
    .command('cancel <id>')
    .description('withdraw a pending request: its action is denied with approval.cancelled')
    .option('--as <name>', 'who cancels, as recorded in the audit log (default: cli:$USER)')
    .option('--reason <text>', 'recorded with the cancellation', 'cancelled from the command line')
    .option(
      '--db <file|url>',
      'store: a SQLite file or a postgres:// URL (default .warden/warden.db or $WARDEN_DB)',
    )
    .option('--json', 'print as JSON')
    .action(async (id: string, opts: { as?: string; reason: string; db?: string; json?: boolean }) => {
      const record = await withApprovals(opts.db, (a) =>
        a.cancel(id, opts.as ?? `cli:${process.env.USER ?? userInfo().username}`, opts.reason),
      ).catch((error: Error & { code?: string }) => {
        if (error.name === 'ApprovalError') throw new CliError(`${error.code}: ${error.message}`, 1);
        throw error;
      });
      if (opts.json) printJson({ approval: record });
      else process.stdout.write(`${line(record)}\n`);
    });
  for (const vote of ['approve', 'deny'] as const) {
    approvals
      .command(`${vote} <id>`)
      .description(`${vote} a pending request (one vote; M-of-N requests need several distinct approvers)`)
      .option('--as <name>', 'approver identity (default: cli:$USER)')
      .option('--role <role>', 'approver role', 'admin')
      .option('--digest <sha256>', 'the digest you reviewed; refused if the action differs')
      .option('--comment <text>', 'recorded with the vote')
      .option(
        '--db <file|url>',
        'store: a SQLite file or a postgres:// URL (default .warden/warden.db or $WARDEN_DB)',
      )
      .option('--json', 'print as JSON')
      .action(
        async (
          id: string,
          opts: { as?: string; role: string; digest?: string; comment?: string; db?: string; json?: boolean },
        ) => {
          const record = await withApprovals(opts.db, (a) =>
            a.vote({
              id,
              vote,
              approver: opts.as ?? `cli:${process.env.USER ?? userInfo().username}`,
              role: opts.role,
              channel: 'cli',
              ...(opts.digest ? { digest: opts.digest } : {}),
              ...(opts.comment ? { comment: opts.comment } : {}),
            }),
          ).catch((error: Error & { code?: string }) => {
            if (error.name === 'ApprovalError') throw new CliError(`${error.code}: ${error.message}`, 1);
            throw error;
          });
          if (opts.json) printJson({ approval: record });
          else process.stdout.write(`${line(record)}\n`);
        },
      );
  }
}
