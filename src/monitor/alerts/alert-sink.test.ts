import { SMTPServer } from 'smtp-server';
import { timestampedHmacVerifier } from '../../../test/helpers/signatures.js';
import { type LocalHttp, localHttp } from '../../../test/monitor/local-servers.js';
import type { AlertSink } from '../../contract/alert.js';
import { alertSinkConformance, type SinkEndpoint } from './alert-sink.conformance.js';
import { createSink } from './sinks.js';

// Every kind of sink `createSink` makes, against the same cases, each with a local endpoint:
// HTTP for Slack, PagerDuty and the webhook, an SMTP server for email.

alertSinkConformance('slack', {
  open: (name) => overHttp((url) => createSink({ type: 'slack', name, url: `${url}/services/T0/B0/X` })),
});

alertSinkConformance('pagerduty', {
  open: (name) =>
    overHttp((url) =>
      createSink({
        type: 'pagerduty',
        name,
        routingKey: 'R0UT1NGKEY',
        url: `${url}/v2/enqueue`,
        source: 'warden',
      }),
    ),
});

const WEBHOOK_SECRET = 'alert-webhook-secret-for-tests';

alertSinkConformance('webhook', {
  open: (name) =>
    overHttp((url) => createSink({ type: 'webhook', name, url: `${url}/warden`, secret: WEBHOOK_SECRET })),
  signature: {
    secret: WEBHOOK_SECRET,
    verify: timestampedHmacVerifier('sha256='),
  },
});

alertSinkConformance('email', {
  open: async (name) => {
    const endpoint = await smtpEndpoint();
    const sink = createSink({
      type: 'email',
      name,
      host: '127.0.0.1',
      port: endpoint.port,
      secure: false,
      from: 'warden@example.test',
      to: ['oncall@example.test'],
    });
    return { sink, endpoint };
  },
});

async function overHttp(
  make: (url: string) => AlertSink,
): Promise<{ sink: AlertSink; endpoint: SinkEndpoint }> {
  const server: LocalHttp = await localHttp();
  let stopped: Promise<void> | undefined;
  return {
    sink: make(server.url),
    endpoint: {
      set: (mode) => {
        server.mode = mode === 'stall' ? 'blackhole' : mode;
      },
      failure: /HTTP 500/,
      received: () => server.received.map((r) => ({ text: r.body, headers: r.headers })),
      stop: () => {
        stopped ??= server.close();
        return stopped;
      },
    },
  };
}

/** A local SMTP server: takes mail, refuses it at MAIL FROM (`fail`), or never greets (`stall`). */
async function smtpEndpoint(): Promise<SinkEndpoint & { port: number }> {
  let mode: 'ok' | 'fail' | 'stall' = 'ok';
  const mails: string[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    closeTimeout: 100, // stop() cuts a stalled connection instead of waiting for it
    onConnect(_session, callback) {
      if (mode !== 'stall') callback();
    },
    onMailFrom(_address, _session, callback) {
      if (mode === 'fail')
        return callback(Object.assign(new Error('mailbox unavailable'), { responseCode: 554 }));
      callback();
    },
    onData(stream, _session, callback) {
      let data = '';
      stream.on('data', (d: Buffer) => {
        data += d;
      });
      stream.on('end', () => {
        mails.push(data);
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let stopped: Promise<void> | undefined;
  return {
    port: (server.server.address() as { port: number }).port,
    set: (next) => {
      mode = next;
    },
    failure: /554/,
    received: () => mails.map((text) => ({ text, headers: {} })),
    stop: () => {
      stopped ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return stopped;
    },
  };
}
