import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { createToken, hashToken, ROLES, type Role, revokeTokenInFile } from '../../server/tokens.js';
import { CliError, DEFAULT_TOKENS, openStore } from '../common.js';

const DB_HELP =
  'keep the token in this store instead of the tokens file (a postgres:// URL: every server sharing it sees the token without a restart)';

export function registerToken(program: Command): void {
  const token = program.command('token').description('manage the bearer tokens of the HTTP API');
  token
    .command('create')
    .description(
      'add a token to the tokens file or the store (only its SHA-256 is stored); prints the token once',
    )
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--agent <name>', 'the agent an `agent` token acts for (required for that role)')
    .option('--name <name>', 'who holds it, as recorded in the audit log (default: the agent or role)')
    .option('--tokens <file>', 'tokens file', DEFAULT_TOKENS)
    .option('--db <file|url>', DB_HELP)
    .action(async (opts: { role: string; agent?: string; name?: string; tokens: string; db?: string }) => {
      if (!ROLES.includes(opts.role as Role))
        throw new CliError(`--role \`${opts.role}\`: expected one of ${ROLES.join(', ')}`);
      if ((opts.role === 'agent') !== (opts.agent !== undefined)) {
        throw new CliError('an `agent` token needs --agent NAME, and only an agent token takes --agent');
      }
      const principal = {
        name: opts.name ?? opts.agent ?? opts.role,
        role: opts.role as Role,
        ...(opts.agent ? { agent: opts.agent } : {}),
      };
      if (opts.db === undefined) {
        process.stdout.write(`${createToken(opts.tokens, principal)}\n`);
        return;
      }
      const store = await openStore(opts.db, { mustExist: true });
      try {
        if (!store.tokens)
          throw new CliError(`the ${store.kind} store keeps no tokens: use the tokens file (--tokens)`);
        const value = `wdn_${randomBytes(24).toString('base64url')}`;
        await store.tokens.create({
          ...principal,
          sha256: hashToken(value),
          createdAt: new Date().toISOString(),
        });
        process.stdout.write(`${value}\n`);
      } finally {
        await store.close();
      }
    });
  token
    .command('revoke')
    .description(
      'revoke tokens in the tokens file, or in the store with --db (every server sharing it stops accepting them within a second)',
    )
    .option('--name <name>', 'revoke every token of this holder')
    .option('--token <token>', 'revoke this token')
    .option('--tokens <file>', 'tokens file', DEFAULT_TOKENS)
    .option('--db <url>', 'revoke in this store instead of the tokens file (postgres:// URL)')
    .action(async (opts: { name?: string; token?: string; tokens: string; db?: string }) => {
      if ((opts.name === undefined) === (opts.token === undefined)) {
        throw new CliError('name what to revoke: --name HOLDER or --token TOKEN (one of them)');
      }
      const which = opts.token !== undefined ? { token: opts.token } : { name: opts.name as string };
      if (opts.db === undefined) {
        if (!existsSync(opts.tokens)) throw new CliError(`no tokens file \`${opts.tokens}\``);
        const n = revokeTokenInFile(opts.tokens, which);
        if (n === 0) throw new CliError(`no such token in ${opts.tokens}`, 1);
        process.stdout.write(
          `revoked ${n} token${n === 1 ? '' : 's'} in ${opts.tokens}; a running \`warden serve\` reads the file at start: restart it\n`,
        );
        return;
      }
      const store = await openStore(opts.db, { mustExist: true });
      try {
        if (!store.tokens)
          throw new CliError(`the ${store.kind} store keeps no tokens: revoke in the tokens file (--tokens)`);
        const n = await store.tokens.revoke(
          opts.token !== undefined ? { sha256: hashToken(opts.token) } : { name: opts.name as string },
        );
        if (n === 0) throw new CliError('no such token in the store (or it was revoked already)', 1);
        process.stdout.write(`revoked ${n} token${n === 1 ? '' : 's'}\n`);
      } finally {
        await store.close();
      }
    });
}
