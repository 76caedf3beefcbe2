import { randomBytes } from 'node:crypto';
import { AuditLog } from '../audit/audit-log.js';
import type { AuditRecord } from '../contract/records.js';
import { KillSwitch } from '../killswitch/kill-switch.js';
import { REDTEAM_RECORD, type RedteamRecordData } from '../redteam/record.js';
import { policyDigest } from '../redteam/run.js';
import { CHECKPOINT_RECORD } from '../store/checkpoints.js';
import { type CheckContext, type CheckResult, fail, pass, warn } from './check-types.js';

const NO_DEPLOYMENT =
  'name the deployment: `--db .warden/warden.db` (the store `warden serve` uses) or `--url http://127.0.0.1:8787 --token $WARDEN_ADMIN_TOKEN`';
/** A red-team run older than this is stale. */
const REDTEAM_MAX_AGE_DAYS = 30;

export async function sandboxWorks(ctx: CheckContext): Promise<CheckResult> {
  const id = 'sandbox';
  const title = 'A working sandbox on this host';
  const needs = [...ctx.policy.agents.values()].filter(
    (a) => a.allows('shell.exec') || a.allows('code.exec'),
  );
  const { diagnoseSandbox } = await import('../sandbox/doctor.js');
  const d = await diagnoseSandbox(ctx.policy.config.sandbox);
  if (d.ok) return pass(id, title, `${d.chosen} started a command here: ${d.verdict}`);
  const why = `no sandbox backend can run commands here (${d.verdict})`;
  const fix = 'run `warden sandbox doctor` and follow its fix lines (e.g. `apt-get install bubblewrap`)';
  if (needs.length > 0)
    return fail(
      id,
      title,
      `${why}; ${needs.map((a) => `\`${a.name}\``).join(', ')} may send shell.exec or code.exec, which will be denied`,
      fix,
    );
  return warn(id, title, `${why}; no agent may send shell.exec or code.exec yet`, fix);
}

export async function alertSinks(ctx: CheckContext): Promise<CheckResult> {
  const id = 'alert-sinks';
  const title = 'Alert sinks configured and reachable';
  const sinks = ctx.policy.config.monitoring.alerts.sinks;
  if (sinks.length === 0)
    return fail(
      id,
      title,
      'no alert sink is configured: anomalies and kills reach nobody',
      'monitoring:\n    alerts:\n      sinks:\n        - { type: slack, url: env:SLACK_WEBHOOK_URL }',
    );
  const names = sinks.map((s, i) => s.name ?? `${s.type}#${i + 1}`);
  if (!ctx.sendTest)
    return warn(
      id,
      title,
      `${sinks.length} sink(s) configured (${names.join(', ')}), not tested`,
      'warden check --send-test   # sends one test alert through each sink',
    );
  const { createSink } = await import('../monitor/alerts/sinks.js');
  const failed: string[] = [];
  for (const [i, config] of sinks.entries()) {
    try {
      const sink = createSink(config);
      await sink.deliver(
        {
          key: `warden-check-${randomBytes(4).toString('hex')}`,
          severity: 'info',
          title: 'warden check: test alert',
          text: 'A test alert sent by `warden check --send-test`. Nothing is wrong.',
          code: 'check.test-alert',
          at: ctx.now.toISOString(),
        },
        AbortSignal.timeout(10_000),
      );
      await sink.close?.();
    } catch (error) {
      failed.push(`${names[i]}: ${(error as Error).message}`);
    }
  }
  if (failed.length > 0)
    return fail(
      id,
      title,
      `the test alert did not get through: ${failed.join('; ')}`,
      "fix the sink's URL or credentials (and the network path to it), then `warden check --send-test` again",
    );
  return pass(id, title, `a test alert reached every sink (${names.join(', ')})`);
}

export async function killSwitchWorks(ctx: CheckContext): Promise<CheckResult> {
  const id = 'kill-switch';
  const title = 'The kill switch works';
  const scratch = `warden-check-${randomBytes(4).toString('hex')}`;
  const fix =
    'check the store is writable by this user (or the token is an admin token), then run `warden kill <agent>` and `warden revive <agent>` by hand';
  try {
    if (ctx.server) {
      const killed = await api(ctx, `/v1/agents/${scratch}/kill`, { reason: 'warden check round trip' });
      const revived = await api(ctx, `/v1/agents/${scratch}/revive`, { reason: 'warden check round trip' });
      if (!(killed as { killed?: unknown }).killed || (revived as { revived?: unknown }).revived !== true)
        return fail(id, title, `the server did not confirm the kill and revive of \`${scratch}\``, fix);
      return pass(id, title, `killed and revived the scratch agent \`${scratch}\` through ${ctx.server.url}`);
    }
    if (!ctx.store) return warn(id, title, 'no deployment named, so no kill was tried', NO_DEPLOYMENT);
    const audit = new AuditLog(ctx.store.audit);
    try {
      const ks = new KillSwitch(ctx.store.kills, audit);
      await ks.kill(scratch, 'cli:warden-check', 'warden check round trip');
      const listed = (await ctx.store.kills.list()).some((k) => k.agent === scratch);
      const revived = await ks.revive(scratch, 'cli:warden-check', 'warden check round trip');
      const gone = !(await ctx.store.kills.list()).some((k) => k.agent === scratch);
      if (!listed || !revived || !gone)
        return fail(
          id,
          title,
          `the store did not keep the kill of \`${scratch}\` (listed: ${listed}, revived: ${revived && gone})`,
          fix,
        );
    } finally {
      await audit.close();
    }
    return pass(id, title, `killed and revived the scratch agent \`${scratch}\` on the store`);
  } catch (error) {
    return fail(id, title, `the kill round trip failed: ${(error as Error).message}`, fix);
  }
}

export async function auditVerifies(ctx: CheckContext): Promise<CheckResult> {
  const id = 'audit-chain';
  const title = 'The audit chain verifies';
  try {
    const result = ctx.server
      ? ((await api(ctx, '/v1/audit/verify')) as {
          ok: boolean;
          records: number;
          firstBad?: { seq: number; message: string };
        })
      : ctx.store
        ? await ctx.store.audit.verify()
        : undefined;
    if (!result) return warn(id, title, 'no deployment named, so no audit log was verified', NO_DEPLOYMENT);
    if (!result.ok)
      return fail(
        id,
        title,
        `the chain breaks at record ${result.firstBad?.seq}: ${result.firstBad?.message}`,
        'treat the log as tampered: `warden audit verify`, `warden audit export` for evidence, then see docs/incident-response.md',
      );
    return pass(id, title, `${result.records} records verify`);
  } catch (error) {
    return fail(id, title, `the audit log could not be verified: ${(error as Error).message}`, NO_DEPLOYMENT);
  }
}

export async function recentCheckpoint(ctx: CheckContext): Promise<CheckResult> {
  const id = 'audit-checkpoint';
  const title = 'A recent signed checkpoint of the audit log';
  const fix =
    'write one now with `warden audit checkpoint --key KEY --file FILE`, and let `warden serve --checkpoint-key KEY --checkpoint-file FILE` write them daily (docs/operations.md)';
  let latest: AuditRecord | undefined;
  try {
    if (ctx.server)
      latest = (
        (await api(ctx, `/v1/audit?type=${CHECKPOINT_RECORD}&order=desc&limit=1`)) as {
          records?: AuditRecord[];
        }
      ).records?.[0];
    else if (ctx.store)
      latest = (await ctx.store.audit.query({ type: CHECKPOINT_RECORD, order: 'desc', limit: 1 }))[0];
    else
      return warn(id, title, 'no store or server given, so no checkpoint could be looked for', NO_DEPLOYMENT);
  } catch (error) {
    return fail(id, title, `the audit log could not be read: ${(error as Error).message}`, NO_DEPLOYMENT);
  }
  if (!latest)
    return fail(
      id,
      title,
      'no signed checkpoint in the audit: deleting the last records would go unnoticed',
      fix,
    );
  const days = (ctx.now.getTime() - Date.parse(latest.ts)) / 86_400_000;
  if (days > 1)
    return warn(
      id,
      title,
      `the latest checkpoint (record ${latest.seq}) is ${days.toFixed(1)} days old`,
      fix,
    );
  return pass(id, title, `latest checkpoint at ${latest.ts} (record ${latest.seq})`);
}

export async function redteamOnRecord(ctx: CheckContext): Promise<CheckResult> {
  const id = 'redteam';
  const title = 'A recent red-team run against this policy';
  const fix = `warden redteam --policy ${ctx.policyFile}${ctx.store ? '' : ' --db .warden/warden.db'} --out redteam.html`;
  let latest: AuditRecord | undefined;
  try {
    if (ctx.server)
      latest = (
        (await api(ctx, `/v1/audit?type=${REDTEAM_RECORD}&order=desc&limit=1`)) as { records?: AuditRecord[] }
      ).records?.[0];
    else if (ctx.store)
      latest = (await ctx.store.audit.query({ type: REDTEAM_RECORD, order: 'desc', limit: 1 }))[0];
    else
      return warn(
        id,
        title,
        'no deployment named, so no record of a red-team run was looked for',
        `${NO_DEPLOYMENT}; and run ${fix}`,
      );
  } catch (error) {
    return fail(id, title, `the audit log could not be read: ${(error as Error).message}`, NO_DEPLOYMENT);
  }
  if (!latest) return fail(id, title, 'no red-team run is on record', fix);
  const data = latest.data as unknown as RedteamRecordData;
  const days = (ctx.now.getTime() - Date.parse(latest.ts)) / 86_400_000;
  if (!data.ok)
    return fail(
      id,
      title,
      `the latest run (${latest.ts}) allowed attacks: ${data.allowed.slice(0, 5).join(', ')}${data.allowed.length > 5 ? ', …' : ''}`,
      `fix the policy, then ${fix}`,
    );
  if (data.policyDigest !== policyDigest(ctx.policy))
    return warn(id, title, `the latest run (${latest.ts}) tested another version of the policy`, fix);
  if (days > REDTEAM_MAX_AGE_DAYS)
    return warn(
      id,
      title,
      `the latest run is ${Math.floor(days)} days old (more than ${REDTEAM_MAX_AGE_DAYS})`,
      fix,
    );
  return pass(
    id,
    title,
    `run at ${latest.ts} against this policy: ${data.checks} decisions, no attack allowed`,
  );
}

async function api(ctx: CheckContext, path: string, body?: unknown): Promise<unknown> {
  const server = ctx.server as NonNullable<CheckContext['server']>;
  const res = await fetch(new URL(path, server.url), {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${server.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const json = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
  if (!res.ok)
    throw new Error(`${path}: HTTP ${res.status}${json.error?.message ? `: ${json.error.message}` : ''}`);
  return json;
}
