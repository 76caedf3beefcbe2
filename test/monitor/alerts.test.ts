import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { SMTPServer } from 'smtp-server';
import type { Alert } from '../../src/contract/alert.js';
import { AlertDispatcher } from '../../src/monitor/alerts/dispatcher.js';
import { createSink } from '../../src/monitor/alerts/sinks.js';
import { createWarden, type Warden } from '../../src/pipeline/warden.js';
import { policyFromObject } from '../../src/policy/load.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { MonitoringSchema } from '../../src/policy/sections/monitor.js';
import { MemoryAlertStore } from '../../src/store/memory/memory-alerts.js';
import { MemoryStore } from '../../src/store/memory/memory-store.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { tempDir } from '../helpers/cli.js';
import { localHttp } from './local-servers.js';

const until = async (what: string, predicate: () => Promise<boolean> | boolean, ms = 10_000) => {
  const started = Date.now();
  while (!(await predicate())) {
    if (Date.now() - started > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

function loopPolicy(sinkUrl: string, retry: Record<string, unknown>): PolicyInput {
  return {
    agents: { bot: { allow: ['llm.generate'] } },
    monitoring: {
      enabled: true,
      logs: { enabled: false },
      anomalies: { loop: { repeats: 2, window: '1m' } },
      alerts: { sinks: [{ type: 'slack', url: sinkUrl }], retry },
    },
  };
}

const generate = { agent: 'bot', type: 'llm.generate', params: { model: 'm', prompt: 'again' } };

describe('alert delivery when a sink is down', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  test('a sink that never answers does not hold up run(); the alert is delivered once it comes back', async () => {
    const sink = await localHttp();
    sink.mode = 'blackhole';
    const store = new MemoryStore();
    const warden = await createWarden({
      policy: policyFromObject(
        loopPolicy(sink.url, { attempts: 5, initialDelay: '100ms', timeout: '1500ms' }),
      ),
      store,
    });
    cleanups.push(
      () => sink.close(),
      () => warden.close(),
    );
    await warden.run(generate, () => 'x');
    await warden.run(generate, () => 'x'); // the second repeat: a loop alert
    await until('the alert in the outbox', async () => (await store.alerts.list()).length === 1);
    // The delivery is now hanging on the blackholed connection. The pipeline carries on regardless:
    for (let i = 0; i < 20; i++) {
      const r = await warden.run({ ...generate, params: { model: 'm', prompt: `new ${i}` } }, () => 'y');
      assert.equal(r.status, 'completed');
    }
    const [row] = await store.alerts.list();
    assert.equal(row?.status, 'pending');
    assert.equal(
      row?.attempts,
      0,
      'run() resolved while the first attempt was still in flight (no retry yet)',
    );
    assert.equal(sink.received.length, 0);
    // The first attempt must have reached the sink while it held requests: one still on its way
    // (fetch loads its client on first use) would be answered once the sink is back.
    await until('the first attempt held by the sink', async () => sink.held >= 1);

    sink.mode = 'ok';
    await until(
      'delivery after the sink came back',
      async () => (await store.alerts.list())[0]?.status === 'delivered',
    );
    const [delivered] = await store.alerts.list();
    assert.ok((delivered?.attempts ?? 0) >= 2, 'the first attempt timed out and a retry got through');
    assert.match(delivered?.lastError ?? '', /no answer within 1500 ms/);
    assert.equal(sink.received.length, 1);
    assert.match(
      (sink.received[0]?.json as { text: string } | undefined)?.text ?? '',
      /repeated the same `llm.generate` 2 times/,
    );
  });

  test('a sink that stays down leaves a dead letter: `undeliverable` in the outbox and an audit record', async () => {
    const sink = await localHttp();
    sink.mode = 'fail';
    const store = new MemoryStore();
    const warden = await createWarden({
      policy: policyFromObject(loopPolicy(sink.url, { attempts: 3, initialDelay: '20ms', maxDelay: '50ms' })),
      store,
    });
    cleanups.push(
      () => sink.close(),
      () => warden.close(),
    );
    await warden.run(generate, () => 'x');
    await warden.run(generate, () => 'x');
    await until('the dead letter', async () => (await store.alerts.list())[0]?.status === 'undeliverable');
    const [row] = await store.alerts.list();
    assert.equal(row?.attempts, 3);
    assert.equal(row?.lastError, 'HTTP 500: down');
    await warden.audit.flush();
    const dead = await store.audit.query({ type: 'alert.undeliverable' });
    assert.equal(dead.length, 1);
    assert.equal(dead[0]?.data.code, 'anomaly.loop');
    assert.equal(dead[0]?.data.attempts, 3);
  });

  test('an alert still pending at shutdown is delivered by the next start (SQLite outbox)', async () => {
    const tmp = tempDir('warden-outbox-');
    cleanups.push(() => tmp.remove());
    const db = join(tmp.dir, 'warden.db');
    const sink = await localHttp();
    cleanups.push(() => sink.close());
    sink.mode = 'fail';
    const policy = policyFromObject(loopPolicy(sink.url, { attempts: 10, initialDelay: '200ms' }));
    let store: Store = await openSqliteStore(db);
    let warden: Warden = await createWarden({ policy, store });
    await warden.run(generate, () => 'x');
    await warden.run(generate, () => 'x');
    await until(
      'a failed first attempt',
      async () => ((await store.alerts?.list()) ?? [])[0]?.attempts === 1,
    );
    await warden.close();
    await store.close();
    assert.equal(sink.received.length, 0);

    sink.mode = 'ok';
    store = await openSqliteStore(db);
    warden = await createWarden({ policy, store });
    cleanups.push(async () => {
      await warden.close();
      await store.close();
    });
    await until(
      'delivery after the restart',
      async () => ((await store.alerts?.list()) ?? [])[0]?.status === 'delivered',
    );
    assert.equal(sink.received.length, 1);
  });
});

const alert = (key: string, severity: Alert['severity'] = 'critical'): Alert => ({
  key,
  severity,
  title: 'loop: agent bot',
  text: 'agent `bot` repeated the same `llm.generate` 5 times within 1m',
  code: 'anomaly.loop',
  agent: 'bot',
  actionId: 'act_1',
  seq: 42,
  at: new Date().toISOString(),
  details: { repeats: 5 },
});

describe('alert queue', () => {
  test('deduplicates the same key within the window and rate-limits per sink, recording what it held back', async () => {
    const sent: string[] = [];
    const store = new MemoryAlertStore();
    const config = MonitoringSchema.parse({
      alerts: { dedupWindow: '1m', rateLimit: { max: 2, per: '1m' } },
    }).alerts;
    const dispatcher = new AlertDispatcher(
      [{ name: 'test', deliver: async (a) => void sent.push(a.key) }],
      store,
      config,
    );
    dispatcher.start();
    dispatcher.send(alert('a'));
    dispatcher.send(alert('a'));
    dispatcher.send(alert('b'));
    dispatcher.send(alert('c'));
    await until('deliveries', () => sent.length === 2);
    await dispatcher.idle();
    await dispatcher.close();
    assert.deepEqual(sent.sort(), ['a', 'b']);
    const rows = await store.list();
    assert.equal(rows.length, 3, 'the duplicate is dropped; the rate-limited one is kept');
    assert.equal(rows.find((r) => r.alert.key === 'c')?.status, 'suppressed');
  });

  test('alerts below `minSeverity` are not sent', async () => {
    const sent: string[] = [];
    const config = MonitoringSchema.parse({ alerts: { minSeverity: 'warning' } }).alerts;
    const dispatcher = new AlertDispatcher(
      [{ name: 't', deliver: async (a) => void sent.push(a.key) }],
      new MemoryAlertStore(),
      config,
    );
    dispatcher.start();
    dispatcher.send(alert('quiet', 'info'));
    dispatcher.send(alert('loud', 'warning'));
    await until('delivery', () => sent.length === 1);
    await dispatcher.close();
    assert.deepEqual(sent, ['loud']);
  });
});

describe('alert sinks speak their formats', () => {
  test('PagerDuty Events API v2, a signed webhook and email over SMTP each receive the alert', async () => {
    const pd = await localHttp(202, '{"status":"success","message":"Event processed","dedup_key":"x"}');
    const hook = await localHttp();
    const mails: { from: string; to: string[]; data: string }[] = [];
    const smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onData(stream, session, callback) {
        let data = '';
        stream.on('data', (d: Buffer) => {
          data += d;
        });
        stream.on('end', () => {
          mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            data,
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    const smtpPort = (smtp.server.address() as { port: number }).port;
    try {
      const config = MonitoringSchema.parse({
        alerts: {
          sinks: [
            {
              type: 'pagerduty',
              routingKey: 'R0UT1NGKEY',
              url: `${pd.url}/v2/enqueue`,
              source: 'warden-prod',
            },
            { type: 'webhook', url: `${hook.url}/warden`, secret: 'env:WARDEN_TEST_HOOK_SECRET' },
            {
              type: 'email',
              host: '127.0.0.1',
              port: smtpPort,
              from: 'warden@example.test',
              to: ['oncall@example.test'],
            },
          ],
        },
      }).alerts;
      process.env.WARDEN_TEST_HOOK_SECRET = 'hook-secret';
      const store = new MemoryAlertStore();
      const dispatcher = new AlertDispatcher(config.sinks.map(createSink), store, config);
      dispatcher.start();
      dispatcher.send(alert('anomaly.loop:bot'));
      await until('three deliveries', async () => (await store.list({ status: 'delivered' })).length === 3);
      await dispatcher.close();

      const event = pd.received[0];
      assert.equal(event?.path, '/v2/enqueue');
      const body = event?.json as Record<string, unknown> & { payload: Record<string, unknown> };
      assert.equal(body.routing_key, 'R0UT1NGKEY');
      assert.equal(body.event_action, 'trigger');
      assert.equal(body.dedup_key, 'anomaly.loop:bot');
      assert.equal(body.payload.severity, 'critical');
      assert.equal(body.payload.source, 'warden-prod');
      assert.match(String(body.payload.summary), /repeated the same/);

      const signed = hook.received[0];
      const ts = String(signed?.headers['x-warden-timestamp']);
      const expected = `sha256=${createHmac('sha256', 'hook-secret').update(`${ts}.${signed?.body}`).digest('hex')}`;
      assert.equal(signed?.headers['x-warden-signature'], expected);
      assert.ok(Math.abs(Number(ts) - Date.now() / 1000) < 60);
      assert.equal((signed?.json as Alert | undefined)?.code, 'anomaly.loop');

      assert.equal(mails.length, 1);
      assert.equal(mails[0]?.from, 'warden@example.test');
      assert.deepEqual(mails[0]?.to, ['oncall@example.test']);
      assert.match(mails[0]?.data ?? '', /Subject: \[warden critical\] loop: agent bot\r\n/);
    } finally {
      delete process.env.WARDEN_TEST_HOOK_SECRET;
      await pd.close();
      await hook.close();
      await new Promise<void>((resolve) => smtp.close(() => resolve()));
    }
  });
});
