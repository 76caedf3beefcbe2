import assert from 'node:assert/strict';
import { after, describe, type TestContext, test } from 'node:test';
import type { Alert, AlertSink } from '../../contract/alert.js';

/** One message an endpoint received: an HTTP request, a mail. */
export interface SinkMessage {
  /** The message as text: the request body, or the whole mail (headers and body). */
  text: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** The endpoint a sink delivers to (a local stand-in for Slack, PagerDuty, a webhook, SMTP). */
export interface SinkEndpoint {
  /** `ok` takes messages; `fail` refuses each; `stall` accepts the connection and never answers. */
  set(mode: 'ok' | 'fail' | 'stall'): void;
  /** What the sink's error says when the endpoint refuses a message. */
  failure: RegExp;
  /** Messages taken so far, oldest first. */
  received(): readonly SinkMessage[];
  /** Stops the endpoint: nothing listens at its address any more. Safe to call twice. */
  stop(): Promise<void>;
}

export interface SinkHarness {
  /** Starts a fresh endpoint and a sink of this kind, configured with `name`, pointed at it. */
  open(name: string): Promise<{ sink: AlertSink; endpoint: SinkEndpoint }>;
  /** For a sink that signs its messages: whether `message` verifies with `secret`, as a receiver checks it. */
  signature?: { secret: string; verify(message: SinkMessage, secret: string): boolean };
  /**
   * Cases (by title) this sink is known to fail, with the reason: they run and report as todo, so
   * the gap stays in sight until the sink is fixed, instead of being left out.
   */
  knownGaps?: Record<string, string>;
}

/** A case with a silent endpoint fails by its own timeout rather than hanging the run. */
const CASE_TIMEOUT_MS = 15_000;
/** What "promptly" means once the signal is aborted. */
const PROMPT_MS = 3000;

/** The cases' titles, so a harness can name one in `knownGaps`. */
export const ALERT_SINK_CASES = {
  name: 'takes its name from the configuration',
  delivers: 'delivers an alert: the endpoint receives one message naming its title, code and agent',
  many: 'alerts delivered at once each arrive once',
  refused: 'rejects, saying what the endpoint answered, when the endpoint refuses the alert',
  gone: 'rejects when nobody listens at the endpoint',
  recovers: 'a refused delivery does not stick: the next one goes through once the endpoint is back',
  abort: 'aborting the signal makes a delivery to a silent endpoint reject promptly',
  aborted: 'a signal aborted before the call makes deliver reject without sending anything',
  signed: 'signed alerts verify with the shared secret, and not with another or once changed',
  close: 'close() may be called after deliveries, and twice',
} as const;

/**
 * The cases every `AlertSink` must pass (each kind `createSink` makes, in `alert-sink.test.ts`):
 * `deliver` resolves only once the endpoint took the alert and rejects, never resolves quietly,
 * when it did not; it honours its `AbortSignal`; `close()` is safe. A case about something a
 * sink does not have (a signature, `close`) reports itself skipped, saying why.
 */
export function alertSinkConformance(kind: string, harness: SinkHarness): void {
  describe(`AlertSink conformance: ${kind}`, () => {
    const opened: { sink: AlertSink; endpoint: SinkEndpoint }[] = [];
    after(async () => {
      for (const { sink, endpoint } of opened) {
        await sink.close?.();
        await endpoint.stop();
      }
    });
    const open = async (name = `${kind}-under-test`) => {
      const made = await harness.open(name);
      opened.push(made);
      return made;
    };
    const it = (title: string, fn: (t: TestContext) => Promise<void>) => {
      const todo = harness.knownGaps?.[title];
      test(title, { timeout: CASE_TIMEOUT_MS, ...(todo ? { todo } : {}) }, fn);
    };

    it(ALERT_SINK_CASES.name, async () => {
      const { sink } = await open('ops-pager');
      assert.equal(sink.name, 'ops-pager');
    });

    it(ALERT_SINK_CASES.delivers, async () => {
      const { sink, endpoint } = await open();
      await sink.deliver(alert('deliver'), live());
      const messages = endpoint.received();
      assert.equal(messages.length, 1);
      for (const part of ['loop by deliver', 'anomaly.loop', 'deliver-bot']) {
        assert.ok(messages[0]?.text.includes(part), `the message names \`${part}\`: ${messages[0]?.text}`);
      }
    });

    it(ALERT_SINK_CASES.many, async () => {
      const { sink, endpoint } = await open();
      const agents = ['many-a', 'many-b', 'many-c'];
      await Promise.all(agents.map((a) => sink.deliver(alert(a), live())));
      const texts = endpoint.received().map((m) => m.text);
      assert.equal(texts.length, 3);
      for (const a of agents) assert.equal(texts.filter((t) => t.includes(`loop by ${a}`)).length, 1, a);
    });

    it(ALERT_SINK_CASES.refused, async () => {
      const { sink, endpoint } = await open();
      endpoint.set('fail');
      await assert.rejects(sink.deliver(alert('refused'), live()), endpoint.failure);
      assert.equal(endpoint.received().length, 0);
    });

    it(ALERT_SINK_CASES.gone, async () => {
      const { sink, endpoint } = await open();
      await endpoint.stop();
      await assert.rejects(sink.deliver(alert('gone'), live()));
    });

    it(ALERT_SINK_CASES.recovers, async () => {
      const { sink, endpoint } = await open();
      endpoint.set('fail');
      await assert.rejects(sink.deliver(alert('first'), live()), endpoint.failure);
      endpoint.set('ok');
      await sink.deliver(alert('second'), live());
      assert.deepEqual(
        endpoint.received().map((m) => m.text.includes('loop by second')),
        [true],
      );
    });

    it(ALERT_SINK_CASES.abort, async () => {
      const { sink, endpoint } = await open();
      endpoint.set('stall');
      const controller = new AbortController();
      const delivering = sink.deliver(alert('abort'), controller.signal);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const aborted = Date.now();
      controller.abort(new Error('no answer in time'));
      await assert.rejects(delivering);
      const took = Date.now() - aborted;
      assert.ok(took < PROMPT_MS, `rejected ${took} ms after the abort`);
    });

    it(ALERT_SINK_CASES.aborted, async () => {
      const { sink, endpoint } = await open();
      const controller = new AbortController();
      controller.abort(new Error('cut short before it began'));
      await assert.rejects(sink.deliver(alert('aborted'), controller.signal));
      await new Promise((resolve) => setTimeout(resolve, 200)); // anything sent anyway has arrived
      assert.equal(endpoint.received().length, 0);
    });

    it(ALERT_SINK_CASES.signed, async (t) => {
      const signature = harness.signature;
      if (!signature) return t.skip(`the ${kind} sink does not sign what it sends`);
      const { sink, endpoint } = await open();
      await sink.deliver(alert('signed'), live());
      const [message] = endpoint.received();
      assert.ok(message);
      assert.equal(signature.verify(message, signature.secret), true, 'verifies with the shared secret');
      assert.equal(signature.verify(message, `${signature.secret}x`), false, 'fails with another secret');
      const forged = { ...message, text: message.text.replace('signed-bot', 'forged-bot') };
      assert.notEqual(forged.text, message.text);
      assert.equal(signature.verify(forged, signature.secret), false, 'fails once the body is changed');
    });

    it(ALERT_SINK_CASES.close, async (t) => {
      const { sink } = await open();
      if (!sink.close) return t.skip(`the ${kind} sink holds nothing open: it has no close()`);
      await sink.deliver(alert('close'), live());
      await sink.close();
      await sink.close();
    });
  });
}

/** A signal that does not abort during a case (the case's own timeout bounds it). */
function live(): AbortSignal {
  return new AbortController().signal;
}

/** A loop anomaly for `agent`; short ASCII lines, so every format (mail included) carries them as is. */
function alert(agent: string): Alert {
  const bot = agent.endsWith('-bot') ? agent : `${agent}-bot`;
  return {
    key: `anomaly.loop:${bot}`,
    severity: 'critical',
    title: `loop by ${agent}`,
    text: 'the same call repeated',
    code: 'anomaly.loop',
    agent: bot,
    actionId: `act-${agent}`,
    seq: 7,
    at: '2026-01-02T03:04:05.000Z',
    details: { repeats: 3 },
  };
}
