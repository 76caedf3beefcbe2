import type { Command } from 'commander';
import { createToken, ROLES, type Role } from '../../server/tokens.js';
import { CliError, DEFAULT_TOKENS } from '../common.js';

export function registerToken(program: Command): void {
  const token = program.command('token').description('manage the bearer tokens of the HTTP API');
  token
    .command('create')
    .description('add a token to the tokens file (only its SHA-256 is stored); prints the token once')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--agent <name>', 'the agent an `agent` token acts for (required for that role)')
    .option('--name <name>', 'who holds it, as recorded in the audit log (default: the agent or role)')
    .option('--tokens <file>', 'tokens file', DEFAULT_TOKENS)
    .action((opts: { role: string; agent?: string; name?: string; tokens: string }) => {
      if (!ROLES.includes(opts.role as Role))
        throw new CliError(`--role \`${opts.role}\`: expected one of ${ROLES.join(', ')}`);
      if ((opts.role === 'agent') !== (opts.agent !== undefined)) {
        throw new CliError('an `agent` token needs --agent NAME, and only an agent token takes --agent');
      }
      const name = opts.name ?? opts.agent ?? opts.role;
      const value = createToken(opts.tokens, {
        name,
        role: opts.role as Role,
        ...(opts.agent ? { agent: opts.agent } : {}),
      });
      process.stdout.write(`${value}\n`);
    });
}
