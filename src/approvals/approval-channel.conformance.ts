import assert from 'node:assert/strict';
import { after, describe, type TestContext, test } from 'node:test';
import type { ApprovalRecord } from '../store/store.js';
import type { ApprovalChannel } from './approval-channel.js';

/** One message the humans' side of a channel received: a log line, an HTTP request. */
export interface ChannelMessage {
  /** The message as text: the line, or the request body. */
  text: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** The endpoint a channel delivers to, switchable into the ways it can let the channel down. */
export interface ChannelEndpoint {
  /** `ok` takes messages; `fail` answers each with an error; `stall` accepts and never answers. */
  set(mode: 'ok' | 'fail' | 'stall'): void;
  /** What the channel's error says when the endpoint answers with an error. */
  failure: RegExp;
  /** Stops the endpoint: nothing listens at its address any more. */
  stop(): Promise<void>;
}

/** One channel under test and what its humans' side has received. */
export interface ChannelUnderTest {
  channel: ApprovalChannel;
  /** Messages received so far, oldest first. */
  received(): readonly ChannelMessage[];
  /** The endpoint the channel talks to; absent for a channel that only calls or writes locally. */
  endpoint?: ChannelEndpoint;
  close(): Promise<void>;
}

export interface ChannelHarness {
  /** Opens the channel against a fresh endpoint; `timeoutMs` bounds each delivery where it can. */
  open(options: { timeoutMs: number }): Promise<ChannelUnderTest>;
  /** For a channel that signs its messages: whether `message` verifies with `secret`, as a receiver checks it. */
  signature?: { secret: string; verify(message: ChannelMessage, secret: string): boolean };
}

/** The timeout of the channel that meets a silent endpoint: short, so the case is quick. */
const SHORT_TIMEOUT_MS = 400;
/** Every other case's: long, so a slow machine never turns an answer into a timeout. */
const LONG_TIMEOUT_MS = 10_000;

/**
 * The cases every `ApprovalChannel` must pass (log, callback, webhook and Slack in
 * `approval-channel.test.ts`). A case about a way a channel can fail that the channel does not
 * have (an endpoint, `decided`, a signature) reports itself skipped, saying why.
 */
export function approvalChannelConformance(name: string, harness: ChannelHarness): void {
  describe(`ApprovalChannel conformance: ${name}`, () => {
    const opened: ChannelUnderTest[] = [];
    after(async () => {
      for (const c of opened) await c.close();
    });
    const open = async (timeoutMs = LONG_TIMEOUT_MS) => {
      const c = await harness.open({ timeoutMs });
      opened.push(c);
      return c;
    };
    const endpointOf = (c: ChannelUnderTest, t: TestContext) => {
      if (!c.endpoint) t.skip(`the ${name} channel has no endpoint that can fail`);
      return c.endpoint;
    };

    test('notify has delivered one message naming the approval id, the agent and the action once it settles', async () => {
      const c = await open();
      assert.ok(c.channel.name.length > 0, 'a channel has a name (warnings about it use it)');
      await c.channel.notify(request('apr_notify_1'));
      const messages = c.received();
      assert.equal(messages.length, 1);
      for (const part of ['apr_notify_1', 'payer-bot', 'payment.send']) {
        assert.ok(messages[0]?.text.includes(part), `the message names \`${part}\`: ${messages[0]?.text}`);
      }
    });

    test('notify leaves the request as it was', async () => {
      const c = await open();
      const r = request('apr_untouched');
      const before = structuredClone(r);
      await c.channel.notify(r);
      assert.deepEqual(r, before);
    });

    test('requests notified at once each arrive, each naming its own id', async () => {
      const c = await open();
      const ids = ['apr_many_1', 'apr_many_2', 'apr_many_3'];
      await Promise.all(ids.map((id) => c.channel.notify(request(id))));
      const texts = c.received().map((m) => m.text);
      assert.equal(texts.length, 3);
      for (const id of ids)
        assert.equal(texts.filter((t) => t.includes(id)).length, 1, `one message for ${id}`);
    });

    test('decided, where offered, tells of the outcome with the approval id and its status', async (t) => {
      const c = await open();
      if (!c.channel.decided) return t.skip(`the ${name} channel offers no decided()`);
      await c.channel.decided(approved('apr_decided_1'));
      const messages = c.received();
      assert.equal(messages.length, 1);
      assert.ok(
        messages[0]?.text.includes('apr_decided_1'),
        `the message names the id: ${messages[0]?.text}`,
      );
      assert.match(messages[0]?.text ?? '', /approved/);
    });

    test('a failing endpoint makes notify and decided reject with an error saying so, never throw synchronously', async (t) => {
      const c = await open();
      const endpoint = endpointOf(c, t);
      if (!endpoint) return;
      endpoint.set('fail');
      const calls: [string, () => unknown][] = [['notify', () => c.channel.notify(request('apr_fail_1'))]];
      if (c.channel.decided) calls.push(['decided', () => c.channel.decided?.(approved('apr_fail_2'))]);
      for (const [what, call] of calls) {
        let pending: unknown;
        assert.doesNotThrow(() => {
          pending = call();
        }, `${what} does not throw synchronously`);
        await assert.rejects(Promise.resolve(pending), endpoint.failure, `${what} rejects`);
      }
      assert.equal(c.received().length, 0);
    });

    // The test's own timeout turns a channel that waits forever into a failure, not a hung run.
    test('an endpoint that never answers makes notify reject once the channel’s timeout has passed', {
      timeout: 15_000,
    }, async (t) => {
      const c = await open(SHORT_TIMEOUT_MS);
      const endpoint = endpointOf(c, t);
      if (!endpoint) return;
      endpoint.set('stall');
      const started = Date.now();
      await assert.rejects(Promise.resolve(c.channel.notify(request('apr_stall_1'))));
      const waited = Date.now() - started;
      assert.ok(
        waited >= SHORT_TIMEOUT_MS - 50 && waited < SHORT_TIMEOUT_MS + 5000,
        `gave up after ${waited} ms`,
      );
    });

    test('an endpoint nobody listens at makes notify reject', async (t) => {
      const c = await open();
      const endpoint = endpointOf(c, t);
      if (!endpoint) return;
      await endpoint.stop();
      await assert.rejects(Promise.resolve(c.channel.notify(request('apr_gone_1'))));
    });

    test('signed messages verify with the shared secret and not with another', async (t) => {
      const signature = harness.signature;
      if (!signature) return t.skip(`the ${name} channel does not sign its messages`);
      const c = await open();
      await c.channel.notify(request('apr_signed_1'));
      await c.channel.decided?.(approved('apr_signed_2'));
      const messages = c.received();
      assert.ok(messages.length > 0);
      for (const message of messages) {
        assert.equal(signature.verify(message, signature.secret), true, 'verifies with the shared secret');
        assert.equal(signature.verify(message, `${signature.secret}x`), false, 'fails with another secret');
        assert.equal(
          signature.verify(
            { ...message, text: message.text.replace('apr_signed', 'apr_forged') },
            signature.secret,
          ),
          false,
          'fails once the body is changed',
        );
      }
    });
  });
}

/** A pending request for a payment, as `Approvals.request` makes it. */
function request(id: string): ApprovalRecord {
  return {
    id,
    actionId: `act_${id}`,
    agent: 'payer-bot',
    user: 'dana',
    digest: 'ab'.repeat(32),
    action: {
      id: `act_${id}`,
      agent: 'payer-bot',
      type: 'payment.send',
      params: { amount: 1200, to: 'acct_9' },
      description: 'pay the supplier',
    },
    decision: {
      id: `dec_${id}`,
      effect: 'ask',
      risk: 'high',
      reasons: [{ code: 'rule.large-payment', stage: 'rules', message: 'payments over 1000 need a human' }],
    },
    required: 1,
    roles: ['finance'],
    status: 'pending',
    votes: [],
    createdAt: '2026-01-02T03:04:05.000Z',
    expiresAt: '2099-01-01T00:00:00.000Z',
  };
}

/** The same request approved from the CLI (not from the channel itself). */
function approved(id: string): ApprovalRecord {
  return {
    ...request(id),
    status: 'approved',
    decidedAt: '2026-01-02T03:05:00.000Z',
    votes: [
      { approver: 'alice', role: 'finance', vote: 'approve', at: '2026-01-02T03:05:00.000Z', channel: 'cli' },
    ],
  };
}
