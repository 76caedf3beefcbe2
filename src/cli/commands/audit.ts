import { createWriteStream } from 'node:fs';
import type { Command } from 'commander';
import { splitRecord } from '../../contract/records.js';
import { verifyWithCheckpoints } from '../../store/checkpoints.js';
import type { AuditRecord } from '../../store/store.js';
import { CliError, openStore, printJson } from '../common.js';
import { checkpointInputs, registerCheckpointCommands } from './audit-checkpoints.js';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('inspect and verify the tamper-evident audit log');

  audit
    .command('verify')
    .description(
      're-hash the whole chain; names the first record that was changed, removed, inserted or moved',
    )
    .option(
      '--db <file|url>',
      'store: a SQLite file or a postgres:// URL (default .warden/warden.db or $WARDEN_DB)',
    )
    .option(
      '--public-key <file>',
      'also check every signed checkpoint in the chain with this key (from `warden audit keygen`)',
    )
    .option(
      '--checkpoints <file>',
      "a checkpoint file (`warden audit checkpoint --file`): a checkpoint past the chain's end is a cut tail",
    )
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExit status: 0 when the log verifies, 1 when it does not.')
    .action(async (opts: { db?: string; json?: boolean; publicKey?: string; checkpoints?: string }) => {
      const anchors = checkpointInputs(opts);
      const store = await openStore(opts.db, { mustExist: true });
      try {
        const result = anchors
          ? await verifyWithCheckpoints(store.audit, anchors.key, anchors.lines)
          : await store.audit.verify();
        const checked = 'checkpoints' in result ? `; ${result.checkpoints} signed checkpoints hold` : '';
        if (opts.json) printJson(result);
        else if (result.ok) {
          const rate =
            result.elapsedMs > 0 ? Math.round(result.records / (result.elapsedMs / 1000)) : result.records;
          process.stdout.write(
            `ok: ${result.records} records verified in ${result.elapsedMs.toFixed(1)} ms (${rate.toLocaleString('en-US')}/s); head ${result.headSeq ?? 0} ${result.headHash ?? ''}${checked}\n`,
          );
        } else {
          const bad = result.firstBad;
          process.stdout.write(`TAMPERED: record ${bad?.seq}: ${bad?.problem}: ${bad?.message}\n`);
        }
        if (!result.ok) process.exitCode = 1;
      } finally {
        await store.close();
      }
    });

  registerCheckpointCommands(audit);

  audit
    .command('tail')
    .description('print the newest records, oldest first')
    .option('-n, --lines <n>', 'how many records', '20')
    .option('--agent <name>', 'only this agent')
    .option('--type <type>', 'only this record type (decision, result, kill, revive, approval.vote, …)')
    .option('-f, --follow', 'keep printing new records as they are appended')
    .option(
      '--db <file|url>',
      'store: a SQLite file or a postgres:// URL (default .warden/warden.db or $WARDEN_DB)',
    )
    .option('--json', 'one JSON record per line')
    .action(
      async (opts: {
        lines: string;
        agent?: string;
        type?: string;
        follow?: boolean;
        db?: string;
        json?: boolean;
      }) => {
        const n = Number(opts.lines);
        if (!Number.isInteger(n) || n < 1)
          throw new CliError(`--lines \`${opts.lines}\`: expected a positive whole number`);
        const store = await openStore(opts.db, { mustExist: true });
        const filter = {
          ...(opts.agent ? { agent: opts.agent } : {}),
          ...(opts.type ? { type: opts.type } : {}),
        };
        // A combined record (decision + result, SPEC §6) prints as both, unless --type picks one.
        const print = (record: AuditRecord) => {
          for (const r of splitRecord(record))
            if (!opts.type || r.type === opts.type)
              process.stdout.write(`${opts.json ? JSON.stringify(r) : formatRecord(r)}\n`);
        };
        const newest = await store.audit.query({ ...filter, limit: n, order: 'desc' });
        newest.reverse().forEach(print);
        if (!opts.follow) return store.close();
        let after = newest.at(-1)?.seq ?? (await store.audit.query({ limit: 1, order: 'desc' }))[0]?.seq ?? 0;
        for (;;) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          const more = await store.audit.query({ ...filter, afterSeq: after, limit: 1000 });
          more.forEach(print);
          after = more.at(-1)?.seq ?? after;
        }
      },
    );

  audit
    .command('export')
    .description('write the whole log with its chain hashes, for evidence or offline verification')
    .option('--format <format>', 'jsonl (one record per line)', 'jsonl')
    .option('--agent <name>', 'only this agent (the chain proof then needs the full export)')
    .option('--out <file>', 'write here instead of stdout')
    .option(
      '--db <file|url>',
      'store: a SQLite file or a postgres:// URL (default .warden/warden.db or $WARDEN_DB)',
    )
    .action(async (opts: { format: string; agent?: string; out?: string; db?: string }) => {
      if (opts.format !== 'jsonl') throw new CliError(`--format \`${opts.format}\`: expected \`jsonl\``);
      const store = await openStore(opts.db, { mustExist: true });
      const out = opts.out ? createWriteStream(opts.out) : process.stdout;
      let after = 0;
      for (;;) {
        const page = await store.audit.query({
          afterSeq: after,
          limit: 5000,
          ...(opts.agent ? { agent: opts.agent } : {}),
        });
        if (page.length === 0) break;
        const ok = out.write(`${page.map((r) => JSON.stringify(r)).join('\n')}\n`);
        if (!ok) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
        after = (page.at(-1) as AuditRecord).seq;
      }
      if (opts.out) await new Promise<void>((resolve) => out.end(() => resolve()));
      await store.close();
    });
}

function formatRecord(r: AuditRecord): string {
  const d = r.data as {
    decision?: { effect?: string; risk?: string; reasons?: Array<{ code: string }> };
    action?: { type?: string };
    status?: string;
    reason?: string;
  };
  let what = '';
  if (r.type === 'decision')
    what = `${d.action?.type ?? '?'} → ${d.decision?.effect} (${d.decision?.risk}) ${d.decision?.reasons?.[0]?.code ?? ''}`;
  else if (r.type === 'result') what = `${d.status}`;
  else if (r.type === 'kill' || r.type === 'revive') what = `${d.reason ?? ''}`;
  else what = JSON.stringify(r.data).slice(0, 120);
  return `${String(r.seq).padStart(7)}  ${r.ts}  ${r.type.padEnd(16)} ${(r.agent ?? '-').padEnd(16)} ${r.actionId ?? ''} ${what}${r.actor ? ` by ${r.actor}` : ''}`;
}
