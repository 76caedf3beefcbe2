import { timestampedHmacVerifier } from '../../test/helpers/signatures.js';
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
    verify: timestampedHmacVerifier('sha256='),
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
