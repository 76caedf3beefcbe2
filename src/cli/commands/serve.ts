import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { LogChannel } from '../../approvals/approval-channel.js';
import { runDemoAgent } from '../../demo/demo-agent.js';
import { createWarden } from '../../pipeline/warden.js';
import { startServer } from '../../server/serve.js';
import { createToken, loadTokens } from '../../server/tokens.js';
import { CliError, DEFAULT_TOKENS, loadPolicyOrExit, openStore } from '../common.js';

interface ServeOptions {
  policy?: string;
  db?: string;
  host: string;
  port: string;
  tokens: string;
  demo?: boolean;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the control plane HTTP API on the embedded SQLite store (or the store named by --db)')
    .option('--policy <file>', 'policy file (default: ./warden.yaml)')
    .option('--db <file>', 'SQLite store file (default .warden/warden.db or $WARDEN_DB)')
    .option(
      '--host <host>',
      'address to bind; keep the default unless a proxy with TLS stands in front',
      '127.0.0.1',
    )
    .option('--port <port>', 'port (0 picks a free one)', '8787')
    .option(
      '--tokens <file>',
      'bearer tokens file; created with admin, approver and viewer tokens when missing',
      DEFAULT_TOKENS,
    )
    .option('--demo', 'also run a scripted demo agent against the server')
    .action(async (opts: ServeOptions) => {
      const policyFile = opts.policy ?? (existsSync('warden.yaml') ? 'warden.yaml' : undefined);
      if (!policyFile)
        throw new CliError('no policy: pass --policy FILE (see examples/) or create ./warden.yaml');
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new CliError(`--port \`${opts.port}\`: expected 0–65535`);
      const policy = loadPolicyOrExit(policyFile);

      const created: string[] = [];
      if (!existsSync(opts.tokens)) {
        for (const role of ['admin', 'approver', 'viewer'] as const) {
          created.push(`  ${role.padEnd(9)} ${createToken(opts.tokens, { name: `${role}@local`, role })}`);
        }
      }
      const tokens = loadTokens(opts.tokens);
      const store = await openStore(opts.db);
      const warden = await createWarden({ policy, store, channels: [new LogChannel()] });
      const server = await startServer(warden, tokens, { host: opts.host, port });

      process.stdout.write(`warden listening on ${server.url} (policy ${policyFile}, store ${store.kind})\n`);
      if (created.length > 0) {
        process.stdout.write(
          `created ${opts.tokens} with these tokens (shown once; only hashes are stored):\n${created.join('\n')}\n`,
        );
      }
      let stopDemo: (() => void) | undefined;
      if (opts.demo) {
        const demoTokens = new Map<string, string>();
        for (const agent of policy.agents.keys()) {
          const token = `demo_${randomBytes(18).toString('base64url')}`;
          tokens.register(token, { name: `demo:${agent}`, role: 'agent', agent });
          demoTokens.set(agent, token);
        }
        stopDemo = runDemoAgent(server.url, demoTokens, (line) => process.stdout.write(`demo  ${line}\n`));
      }

      const shutdown = async (signal: string) => {
        process.stdout.write(`\n${signal}: stopping; flushing the audit log\n`);
        stopDemo?.();
        await server.close();
        await warden.close();
        await store.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown('SIGINT'));
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
    });
}
