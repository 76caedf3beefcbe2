import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { isWardenError } from '../../contract/errors.js';
import { createWarden, type Warden } from '../../pipeline/warden.js';
import { MemoryStore } from '../../store/memory/memory-store.js';
import { validateAction } from '../../validate/validate.js';
import { CliError, loadPolicyOrExit, openStore, warnWhenNoAgents } from '../common.js';

/**
 * SPEC §5 (contract): Actions as JSON lines in, one Decision per line out, in order. A line
 * `{"observation": {…}}` (SPEC §2b) is learnt instead and answered by one line
 * `{"observed": true, "session", "labels"}`, so output stays one line per input line.
 */
export function registerEval(program: Command): void {
  program
    .command('eval')
    .description(
      'decide Actions (JSON lines) without side effects; one Decision per line, in order ({"observation": …} lines are learnt)',
    )
    .requiredOption('--policy <file>', 'policy file (YAML or JSON)')
    .option('--input <file>', 'read Actions from this file instead of stdin')
    .option('--db <file>', 'use this store for kill-switch and limit state instead of a fresh in-memory one')
    .addHelpText(
      'after',
      '\nExit status: 0 when every line was decided; 2 for invalid input (the message names the line) or an invalid policy.\n\nExample:\n  echo \'{"agent":"research-agent","type":"fs.delete","params":{"path":"/data/x"}}\' | warden eval --policy examples/research-agent.yaml',
    )
    .action(async (opts: { policy: string; input?: string; db?: string }) => {
      const policy = loadPolicyOrExit(opts.policy);
      warnWhenNoAgents(policy, opts.policy);
      const store = opts.db
        ? await openStore(opts.db, { mustExist: true, sync: policy.config.audit.sync })
        : new MemoryStore();
      const warden = await createWarden({ policy, store, killPollMs: 60_000 });
      const input = opts.input ? createReadStream(opts.input) : process.stdin;
      input.on('error', (error: Error) => {
        process.stderr.write(`warden: cannot read \`${opts.input}\`: ${error.message}\n`);
        process.exit(2);
      });
      const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
      let n = 0;
      let out = '';
      const flush = () => {
        if (out) process.stdout.write(out);
        out = '';
      };
      try {
        for await (const line of lines) {
          n++;
          if (line.trim() === '') continue;
          let parsed: unknown;
          try {
            parsed = JSON.parse(line);
          } catch (error) {
            throw new CliError(
              `line ${n}: not valid JSON (${(error as Error).message}); each line must be one Action object`,
            );
          }
          if (isObservationLine(parsed)) {
            out += `${JSON.stringify(await observeLine(warden, parsed.observation, n))}\n`;
            continue;
          }
          const valid = validateAction(parsed);
          if (!valid.ok)
            throw new CliError(
              `line ${n}: invalid action: ${valid.field ? `\`${valid.field}\`: ` : ''}${valid.message}`,
            );
          out += `${JSON.stringify(await warden.check(parsed))}\n`;
          if (out.length > 64 * 1024) flush();
        }
      } finally {
        flush();
        await warden.close();
        await store.close();
      }
    });
}

function isObservationLine(parsed: unknown): parsed is { observation: unknown } {
  return typeof parsed === 'object' && parsed !== null && 'observation' in parsed;
}

/** Learns an observation line in memory only (`eval` has no side effects, even with `--db`). */
async function observeLine(warden: Warden, observation: unknown, n: number) {
  try {
    const { session, labels } = await warden.observe(observation, { persist: false });
    return { observed: true, session, labels };
  } catch (error) {
    if (isWardenError(error)) throw new CliError(`line ${n}: ${error.message}`);
    throw error;
  }
}
