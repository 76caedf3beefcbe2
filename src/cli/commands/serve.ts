import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { LogChannel } from '../../approvals/approval-channel.js';
import { recoverOrphans } from '../../approvals/recover-orphans.js';
import { checkpointSigner } from '../../audit/checkpoint.js';
import { runDemoAgent } from '../../demo/demo-agent.js';
import { createWarden } from '../../pipeline/warden.js';
import { SERVER_LIMITS, startServer } from '../../server/serve.js';
import { createToken, loadTokens } from '../../server/tokens.js';
import { CheckpointExports } from '../../store/checkpoint-export.js';
import { type CheckpointLine, startCheckpoints } from '../../store/checkpoints.js';
import {
  CliError,
  DEFAULT_TOKENS,
  loadPolicyOrExit,
  openStore,
  storeOf,
  warnWhenNoAgents,
} from '../common.js';
import { readKey } from './audit-checkpoints.js';
import { checkpointExporters } from './checkpoint-exporters.js';

interface ServeOptions {
  policy?: string;
  db?: string;
  host: string;
  port: string;
  tokens: string;
  demo?: boolean;
  headersTimeout: string;
  requestTimeout: string;
  maxConnections: string;
  checkpointKey?: string;
  checkpointEvery: string;
  checkpointFile?: string;
  checkpointWebhook?: string;
  checkpointWebhookSecretEnv: string;
  checkpointS3?: string;
  checkpointS3Endpoint?: string;
  checkpointS3Region?: string;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the control plane HTTP API on the embedded SQLite store (or the store named by --db)')
    .option('--policy <file>', 'policy file (default: ./warden.yaml)')
    .option(
      '--db <file|url>',
      'store: a SQLite file or a postgres:// URL (default .warden/warden.db or $WARDEN_DB)',
    )
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
    .option(
      '--checkpoint-key <file>',
      'sign a checkpoint of the audit head periodically with this key (`warden audit keygen`)',
    )
    .option('--checkpoint-every <seconds>', 'how often to checkpoint, with --checkpoint-key', '60')
    .option('--checkpoint-file <file>', 'also append each checkpoint here (keep it off the store host)')
    .option(
      '--checkpoint-webhook <url>',
      'also POST each checkpoint here as JSON, signed like every Warden webhook (x-warden-signature: sha256=…) with the secret in --checkpoint-webhook-secret-env',
    )
    .option(
      '--checkpoint-webhook-secret-env <var>',
      'the environment variable holding the checkpoint webhook secret',
      'WARDEN_CHECKPOINT_WEBHOOK_SECRET',
    )
    .option(
      '--checkpoint-s3 <s3://bucket/prefix>',
      'also PUT each checkpoint to S3 (or an S3-compatible store) as <prefix>/<seq>.json, signed with SigV4; credentials from $AWS_ACCESS_KEY_ID, $AWS_SECRET_ACCESS_KEY (and $AWS_SESSION_TOKEN)',
    )
    .option(
      '--checkpoint-s3-endpoint <url>',
      'an S3-compatible endpoint (MinIO, R2, …; bucket in the path); default $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, else AWS',
    )
    .option(
      '--checkpoint-s3-region <region>',
      'the bucket region (default $AWS_REGION, $AWS_DEFAULT_REGION, else us-east-1)',
    )
    .option(
      '--headers-timeout <seconds>',
      'a client must send its request headers within this',
      String(SERVER_LIMITS.headersTimeoutMs / 1000),
    )
    .option(
      '--request-timeout <seconds>',
      'a client must send its whole request within this (answers such as /v1/events are not cut)',
      String(SERVER_LIMITS.requestTimeoutMs / 1000),
    )
    .option('--max-connections <n>', 'connections open at once at most', String(SERVER_LIMITS.maxConnections))
    .action(async (opts: ServeOptions) => {
      const policyFile = opts.policy ?? (existsSync('warden.yaml') ? 'warden.yaml' : undefined);
      if (!policyFile)
        throw new CliError('no policy: pass --policy FILE (see examples/) or create ./warden.yaml');
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new CliError(`--port \`${opts.port}\`: expected 0–65535`);
      const limits = {
        headersTimeoutMs: positive('--headers-timeout', opts.headersTimeout, 3600) * 1000,
        requestTimeoutMs: positive('--request-timeout', opts.requestTimeout, 3600) * 1000,
        maxConnections: Math.floor(positive('--max-connections', opts.maxConnections, 1_000_000)),
      };
      const checkpointKey = opts.checkpointKey ? readKey(opts.checkpointKey, checkpointSigner) : undefined;
      const exporters = checkpointExporters(opts, process.env);
      if (exporters.length > 0 && !checkpointKey) {
        throw new CliError(
          '--checkpoint-webhook and --checkpoint-s3 export checkpoints: pass --checkpoint-key too',
        );
      }
      const policy = loadPolicyOrExit(policyFile);
      warnWhenNoAgents(policy, policyFile);
      // Under `warden serve`, monitoring (logs on stdout, /metrics, anomalies) is on unless the policy says no.
      policy.config.monitoring.enabled ??= true;

      const created: string[] = [];
      if (!existsSync(opts.tokens)) {
        for (const role of ['admin', 'approver', 'viewer'] as const) {
          created.push(`  ${role.padEnd(9)} ${createToken(opts.tokens, { name: `${role}@local`, role })}`);
        }
      }
      const tokens = loadTokens(opts.tokens);
      const store = await openStore(storeOf(opts.db, policy), { sync: policy.config.audit.sync });
      let warden: Awaited<ReturnType<typeof createWarden>>;
      try {
        warden = await createWarden({ policy, store, channels: [new LogChannel()] });
      } catch (error) {
        await store.close();
        throw new CliError(`cannot start with policy ${policyFile}: ${(error as Error).message}`, 2);
      }
      // Requests an older Warden left pending without their action after a crash: never approvable.
      const orphans = await recoverOrphans(warden.approvals, store);
      if (orphans.length > 0) {
        process.stdout.write(
          `recovered ${orphans.length} orphaned approval request${orphans.length === 1 ? '' : 's'} (cancelled with approval.orphaned; see \`warden audit tail --type approval.cancelled\`)\n`,
        );
      }
      const unfollowTokens = store.tokens ? tokens.follow(store.tokens) : undefined;
      const server = await startServer(warden, tokens, { host: opts.host, port, ...limits });
      // An export that fails is logged, alerted and retried; the checkpoint is in the chain already.
      const exports = new CheckpointExports(exporters, (exporter, error, attempt) => {
        process.stderr.write(
          `${JSON.stringify({ level: 'error', msg: `audit checkpoint export to ${exporter.name} failed; retrying`, attempt, error: String(error) })}\n`,
        );
        warden.monitor?.alerts.send({
          key: `checkpoint.export-failed:${exporter.name}`,
          severity: 'warning',
          title: 'Audit checkpoint export failing',
          text: `exporting the signed audit checkpoint to ${exporter.name} failed (attempt ${attempt}): ${String(error)}; Warden keeps serving and retries`,
          code: 'checkpoint.export-failed',
          at: new Date().toISOString(),
          details: { exporter: exporter.name, attempt },
        });
      });
      const stopCheckpoints = checkpointKey
        ? startCheckpoints(store.audit, checkpointKey, {
            everyMs: positive('--checkpoint-every', opts.checkpointEvery, 86_400) * 1000,
            ...(opts.checkpointFile ? { file: opts.checkpointFile } : {}),
            ...(exporters.length > 0 ? { onWritten: (line: CheckpointLine) => exports.add(line) } : {}),
            onError: (error) =>
              process.stderr.write(
                `${JSON.stringify({ level: 'error', msg: 'audit checkpoint failed; trying again at the next tick', error: String(error) })}\n`,
              ),
          })
        : undefined;

      process.stdout.write(
        `warden listening on ${server.url} (policy ${policyFile}, store ${store.kind}, audit.sync ${policy.config.audit.sync})\n`,
      );
      process.stdout.write(`sandbox: ${warden.sandbox?.summary ?? 'none'}\n`);
      if (!warden.sandbox?.sandbox && warden.sandbox?.backend !== 'unused') {
        // One line on what that means for agents, and where to go next.
        process.stdout.write(
          warden.sandbox?.problem
            ? '  shell.exec and code.exec will be denied (sandbox.unavailable): no sandbox backend can run here (above); run `warden sandbox doctor` for what is missing and how to get it (Debian/Ubuntu: `apt-get install bubblewrap`)\n'
            : '  shell.exec and code.exec will be denied (sandbox.unavailable): the policy sets `sandbox.backend: none`; run `warden sandbox doctor` to see which backend would work here\n',
        );
      }
      if (created.length > 0) {
        process.stdout.write(
          `created ${opts.tokens} with these tokens (shown once; only hashes are stored):\n${created.join('\n')}\n`,
        );
      }
      let stopDemo: (() => Promise<void>) | undefined;
      let logins = created.length > 0 ? 'sign in with the admin or approver token above' : '';
      if (opts.demo) {
        // In-memory tokens for this run only: the demo's agents, the operator who stops the
        // runaway loop, and two approvers, so a newcomer can release the two-approver payment.
        const mint = () => `demo_${randomBytes(18).toString('base64url')}`;
        const agents = new Map<string, string>();
        for (const agent of policy.agents.keys()) {
          const token = mint();
          tokens.register(token, { name: `demo:${agent}`, role: 'agent', agent });
          agents.set(agent, token);
        }
        const operator = mint();
        tokens.register(operator, { name: 'demo:operator', role: 'admin' });
        const people = (['alice', 'bob', 'viewer'] as const).map((name) => {
          const token = mint();
          const role = name === 'viewer' ? 'viewer' : 'approver';
          tokens.register(token, { name: `demo:${name}`, role });
          return `  ${`${name} (${role})`.padEnd(20)} ${token}`;
        });
        logins = `sign in with one of these demo tokens (valid until the server stops):\n${people.join('\n')}`;
        stopDemo = runDemoAgent(server.url, { agents, operator }, (line) =>
          process.stdout.write(`demo  ${line}\n`),
        );
      }
      process.stdout.write(
        `dashboard: ${server.url}/dashboard/ — ${logins || `sign in with a token from ${opts.tokens} (create one: \`warden token create --role approver --name you\`)`}\n`,
      );

      const shutdown = async (signal: string) => {
        process.stdout.write(`\n${signal}: stopping; flushing the audit log\n`);
        await stopDemo?.();
        stopCheckpoints?.();
        exports.close();
        unfollowTokens?.();
        await server.close();
        await warden.close();
        await store.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void shutdown('SIGINT'));
      process.once('SIGTERM', () => void shutdown('SIGTERM'));
    });
}

/** A flag's number, above 0 and at most `max`; anything else stops `serve` with the flag named. */
function positive(flag: string, value: string, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > max) {
    throw new CliError(`${flag} \`${value}\`: expected a number above 0 and at most ${max}`);
  }
  return n;
}
