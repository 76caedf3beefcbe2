import { createHmac, timingSafeEqual } from 'node:crypto';
import { type LocalHttp, localHttp } from '../../test/monitor/local-servers.js';
import {
  approvalChannelConformance,
  type ChannelMessage,
  type ChannelUnderTest,
} from './approval-channel.conformance.js';
import { type ApprovalChannel, CallbackChannel, LogChannel } from './approval-channel.js';
import { SlackChannel } from './channels/slack.js';
import { WebhookChannel } from './channels/webhook.js';

// Every ApprovalChannel against the same cases; webhook and Slack post to a local HTTP server.

approvalChannelConformance('log', {
  async open() {
    const lines: string[] = [];
    return local(new LogChannel((line) => lines.push(line)), lines);
  },
});

approvalChannelConformance('callback', {
  async open() {
    const lines: string[] = [];
    return local(new CallbackChannel((r) => void lines.push(JSON.stringify(r))), lines);
  },
});

const WEBHOOK_SECRET = 'approval-webhook-secret-for-tests';

approvalChannelConformance('webhook', {
  open: async ({ timeoutMs }) =>
    remote((server) => new WebhookChannel(`${server.url}/hook`, WEBHOOK_SECRET, 'webhook', timeoutMs)),
  signature: {
    secret: WEBHOOK_SECRET,
    // As a receiver checks it, from the documented scheme rather than the channel's own helper:
    // `v1=` + hex HMAC-SHA256 of `{X-Warden-Timestamp}.{body}`, with a fresh timestamp.
    verify(message, secret) {
      const ts = String(message.headers['x-warden-timestamp']);
      if (!/^\d+$/.test(ts) || Math.abs(Number(ts) - Date.now() / 1000) > 60) return false;
      const expected = Buffer.from(
        `v1=${createHmac('sha256', secret).update(`${ts}.${message.text}`).digest('hex')}`,
      );
      const got = Buffer.from(String(message.headers['x-warden-signature']));
      return got.length === expected.length && timingSafeEqual(got, expected);
    },
  },
});

approvalChannelConformance('slack', {
  open: async ({ timeoutMs }) =>
    remote((server) => new SlackChannel(`${server.url}/services/T0/B0/X`, undefined, timeoutMs)),
});

function local(channel: ApprovalChannel, lines: string[]): ChannelUnderTest {
  return {
    channel,
    received: () => lines.map((text) => ({ text, headers: {} })),
    close: async () => {},
  };
}

async function remote(make: (server: LocalHttp) => ApprovalChannel): Promise<ChannelUnderTest> {
  const server = await localHttp();
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= server.close();
    return stopped;
  };
  return {
    channel: make(server),
    received: (): ChannelMessage[] => server.received.map((r) => ({ text: r.body, headers: r.headers })),
    endpoint: {
      set: (mode) => {
        server.mode = mode === 'stall' ? 'blackhole' : mode;
      },
      failure: /answered 500/,
      stop,
    },
    close: stop,
  };
}
