import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { checkpointSigner, checkpointVerifier, generateCheckpointKeys } from '../../audit/checkpoint.js';
import { readCheckpointFile, writeCheckpoint } from '../../store/checkpoints.js';
import { CliError, openStore, printJson } from '../common.js';

const DB_HELP = 'store: a SQLite file or a postgres:// URL (default .warden/warden.db or $WARDEN_DB)';

/** `warden audit keygen` and `warden audit checkpoint`: signed anchors of the chain's head. */
export function registerCheckpointCommands(audit: Command): void {
  audit
    .command('keygen')
    .description('make an Ed25519 key pair for signing audit checkpoints (FILE and FILE.pub)')
    .requiredOption('--out <file>', 'private key file (PEM, mode 0600); the public key goes to <file>.pub')
    .action((opts: { out: string }) => {
      if (existsSync(opts.out))
        throw new CliError(`\`${opts.out}\` exists: choose another --out, or remove it first`);
      const { privateKey, publicKey } = generateCheckpointKeys();
      writeFileSync(opts.out, privateKey, { mode: 0o600, flag: 'wx' });
      writeFileSync(`${opts.out}.pub`, publicKey, { flag: 'wx' });
      process.stdout.write(
        `wrote ${opts.out} (keep it secret: it signs checkpoints) and ${opts.out}.pub (give it to whoever verifies)\n`,
      );
    });

  audit
    .command('checkpoint')
    .description("sign the chain's head and append the checkpoint to the chain (and to --file)")
    .requiredOption('--key <file>', 'private key from `warden audit keygen`')
    .option(
      '--file <file>',
      'also append the checkpoint here, one JSON line each: keep it off the store host',
    )
    .option('--db <file|url>', DB_HELP)
    .option('--json', 'print the checkpoint as JSON')
    .action(async (opts: { key: string; file?: string; db?: string; json?: boolean }) => {
      const key = readKey(opts.key, checkpointSigner);
      const store = await openStore(opts.db, { mustExist: true });
      try {
        const line = await writeCheckpoint(store.audit, key, opts.file);
        if (opts.json) printJson(line ?? null);
        else if (!line) process.stdout.write('the audit log is empty: nothing to checkpoint\n');
        else
          process.stdout.write(
            `checkpoint of record ${line.checkpoint.seq} (${line.checkpoint.hash}) stored as record ${line.record}${opts.file ? ` and in ${opts.file}` : ''}\n`,
          );
      } finally {
        await store.close();
      }
    });
}

/** Reads a PEM key file with `parse`; a missing or wrong file is a CLI error naming it. */
export function readKey(file: string, parse: (pem: string) => KeyObject): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read the key \`${file}\`: ${(error as Error).message}`);
  }
  try {
    return parse(pem);
  } catch (error) {
    throw new CliError(`\`${file}\` is not a usable checkpoint key: ${(error as Error).message}`);
  }
}

/** The verify command's checkpoint inputs, read and checked. */
export function checkpointInputs(opts: {
  publicKey?: string;
  checkpoints?: string;
}): { key: KeyObject; lines: unknown[] } | undefined {
  if (!opts.publicKey) {
    if (opts.checkpoints) throw new CliError('--checkpoints needs --public-key to check their signatures');
    return undefined;
  }
  const key = readKey(opts.publicKey, checkpointVerifier);
  if (!opts.checkpoints) return { key, lines: [] };
  try {
    return { key, lines: readCheckpointFile(opts.checkpoints) };
  } catch (error) {
    throw new CliError(`cannot read the checkpoints \`${opts.checkpoints}\`: ${(error as Error).message}`);
  }
}
