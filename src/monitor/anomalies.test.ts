import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MonitoringSchema } from '../policy/sections/monitor.js';
import type { AuditRecord } from '../store/store.js';
import { AnomalyDetector } from './anomalies.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
let seq = 0;
const at = (ms: number) => new Date(T0 + ms).toISOString();

function decision(
  ms: number,
  type: string,
  params: Record<string, unknown>,
  effect = 'allow',
  code = 'default.allow',
): AuditRecord {
  seq++;
  return {
    seq,
    ts: at(ms),
    type: 'decision',
    agent: 'bot',
    actionId: `a${seq}`,
    data: {
      action: { type, params },
      decision: { effect, risk: 'low', reasons: [{ code, stage: 'rules', message: '' }] },
    },
    hash: '',
  };
}
function result(ms: number, status: string): AuditRecord {
  seq++;
  return { seq, ts: at(ms), type: 'result', agent: 'bot', actionId: `a${seq}`, data: { status }, hash: '' };
}

const detector = (anomalies: Record<string, unknown>) =>
  new AnomalyDetector(MonitoringSchema.parse({ anomalies }).anomalies);
const codes = (found: { code: string }[]) => found.map((a) => a.code);

describe('cost spike', () => {
  const cfg = {
    costSpike: { window: '1m', factor: 2, minBaselineUsd: 1, baselineWindows: 5 },
    loop: { enabled: false },
  };

  test('with no history the baseline is the floor: more than 2 × $1 in a minute is a spike', () => {
    const d = detector(cfg);
    assert.deepEqual(codes(d.observe(result(0, 'completed'), 1.5)), []);
    const found = d.observe(result(10_000, 'completed'), 0.6);
    assert.deepEqual(codes(found), ['anomaly.cost-spike']);
    assert.equal(found[0]?.details.baselineUsd, 1);
    assert.equal(found[0]?.details.historyWindows, 0);
  });

  test('with history the baseline is the average spend per window; twice a high normal is not a spike', () => {
    const d = detector(cfg);
    // Five minutes at $5 a minute: that is normal for this agent.
    for (let m = 0; m < 5; m++)
      for (let i = 0; i < 5; i++) d.observe(result(m * 60_000 + i * 10_000, 'completed'), 1);
    // $9 in the sixth minute is under 2 × $5.
    let found: string[] = [];
    for (let i = 0; i < 9; i++)
      found = found.concat(codes(d.observe(result(5 * 60_000 + i * 5000, 'completed'), 1)));
    assert.deepEqual(found, []);
    // $11 is over it.
    found = codes(d.observe(result(5 * 60_000 + 50_000, 'completed'), 2));
    assert.deepEqual(found, ['anomaly.cost-spike']);
  });

  test('fires once per window, not on every further dollar', () => {
    const d = detector(cfg);
    const all = [0, 1, 2, 3, 4, 5].flatMap((i) => codes(d.observe(result(i * 1000, 'completed'), 1)));
    assert.deepEqual(all, ['anomaly.cost-spike']);
  });
});

describe('failure rate, denial bursts, novelty and loops', () => {
  test('failure rate over 10% alerts only once the minimum sample is reached', () => {
    const d = detector({ failureRate: { minSamples: 10, threshold: 0.1 }, loop: { enabled: false } });
    const found: string[] = [];
    for (let i = 0; i < 9; i++)
      found.push(...codes(d.observe(result(i * 1000, i < 2 ? 'failed' : 'completed'))));
    assert.deepEqual(found, [], 'nine results are too few to judge');
    assert.deepEqual(codes(d.observe(result(9000, 'completed'))), ['anomaly.failure-rate']);
  });

  test('a 10% failure rate exactly is not above the threshold', () => {
    const d = detector({ failureRate: { minSamples: 10, threshold: 0.1 } });
    const found: string[] = [];
    for (let i = 0; i < 10; i++)
      found.push(...codes(d.observe(result(i * 1000, i === 0 ? 'timeout' : 'completed'))));
    assert.deepEqual(found, []);
  });

  test('a burst of denials alerts; kill-switch denials (Warden’s own response) do not count', () => {
    const d = detector({ denialBurst: { count: 3, window: '1m' }, loop: { enabled: false } });
    const killed = [0, 1, 2, 3].flatMap((i) =>
      codes(d.observe(decision(i * 1000, 'fs.read', { path: `/x${i}` }, 'deny', 'killswitch.agent-killed'))),
    );
    assert.deepEqual(killed, []);
    const found = [4, 5, 6].flatMap((i) =>
      codes(
        d.observe(
          decision(i * 1000, 'fs.read', { path: `/x${i}` }, 'deny', 'permissions.resource-not-granted'),
        ),
      ),
    );
    assert.deepEqual(found, ['anomaly.denial-burst']);
  });

  test('after the learning period a new action type, then a new resource, is flagged', () => {
    const d = detector({ novelty: { learningActions: 3 }, loop: { enabled: false } });
    const learning = [0, 1, 2, 3].flatMap((i) =>
      codes(d.observe(decision(i, 'fs.read', { path: `/data/${i}.txt` }))),
    );
    assert.deepEqual(learning, []);
    assert.deepEqual(
      codes(d.observe(decision(10, 'fs.read', { path: '/data/9.txt' }))),
      [],
      'same directory',
    );
    assert.deepEqual(codes(d.observe(decision(11, 'fs.delete', { path: '/data/9.txt' }))), [
      'anomaly.novel-action',
    ]);
    assert.deepEqual(codes(d.observe(decision(12, 'fs.read', { path: '/etc/passwd' }))), [
      'anomaly.novel-resource',
    ]);
  });

  test('the same canonical action N times in the window is a loop; key order in params does not hide it', () => {
    const d = detector({ loop: { repeats: 3, window: '1m' } });
    assert.deepEqual(codes(d.observe(decision(0, 'http.request', { url: 'https://a', method: 'GET' }))), []);
    assert.deepEqual(
      codes(d.observe(decision(1000, 'http.request', { method: 'GET', url: 'https://a' }))),
      [],
    );
    assert.deepEqual(codes(d.observe(decision(2000, 'http.request', { url: 'https://a', method: 'GET' }))), [
      'anomaly.loop',
    ]);
  });

  test('repeats spread wider than the window are not a loop', () => {
    const d = detector({ loop: { repeats: 3, window: '1m' } });
    const found = [0, 40_000, 80_000, 120_000].flatMap((ms) =>
      codes(d.observe(decision(ms, 'fs.read', { path: '/a' }))),
    );
    assert.deepEqual(found, []);
  });
});

describe('absolute cost thresholds', () => {
  const base = { costSpike: { enabled: false }, loop: { enabled: false }, novelty: { enabled: false } };
  const paid = (ms: number, id: string, session?: string): AuditRecord[] => [
    {
      seq: ++seq,
      ts: at(ms),
      type: 'decision',
      agent: 'bot',
      actionId: id,
      data: {
        action: { type: 'llm.call', params: {}, ...(session ? { session } : {}) },
        decision: { effect: 'allow', risk: 'low', reasons: [] },
      },
      hash: '',
    },
    {
      seq: ++seq,
      ts: at(ms),
      type: 'result',
      agent: 'bot',
      actionId: id,
      data: { status: 'completed' },
      hash: '',
    },
  ];
  const feed = (d: AnomalyDetector, records: AuditRecord[], usd: number) =>
    records.flatMap((r) => d.observe(r, r.type === 'result' ? usd : undefined));

  test('one action over `perActionUsd` raises anomaly.cost-threshold; one under it does not', () => {
    const d = detector({ ...base, costThreshold: { perActionUsd: 5 } });
    assert.deepEqual(codes(feed(d, paid(0, 'x1'), 4.99)), []);
    const found = feed(d, paid(1000, 'x2'), 5.5);
    assert.deepEqual(codes(found), ['anomaly.cost-threshold']);
    assert.equal(found[0]?.details.scope, 'action');
    assert.match(found[0]?.message ?? '', /cost \$5\.50, over the \$5\.00 per action/);
  });

  test('a session passing `perSessionUsd` raises it once; another session keeps its own count', () => {
    const d = detector({ ...base, costThreshold: { perSessionUsd: 10 } });
    assert.deepEqual(codes(feed(d, paid(0, 's1', 'alpha'), 6)), []);
    const crossed = feed(d, paid(1000, 's2', 'alpha'), 6);
    assert.deepEqual(codes(crossed), ['anomaly.cost-threshold']);
    assert.equal(crossed[0]?.details.session, 'alpha');
    assert.deepEqual(codes(feed(d, paid(2000, 's3', 'alpha'), 6)), [], 'once per session');
    assert.deepEqual(codes(feed(d, paid(3000, 's4', 'beta'), 6)), []);
  });

  test('more than `perHourUsd` within an hour raises it; the same spend spread over hours does not', () => {
    const d = detector({ ...base, costThreshold: { perHourUsd: 20 } });
    for (let h = 0; h < 5; h++) assert.deepEqual(codes(feed(d, paid(h * 3_700_000, `h${h}`), 15)), []);
    const busy = detector({ ...base, costThreshold: { perHourUsd: 20 } });
    assert.deepEqual(codes(feed(busy, paid(0, 'b1'), 15)), []);
    assert.deepEqual(codes(feed(busy, paid(30 * 60_000, 'b2'), 15)), ['anomaly.cost-threshold']);
  });

  test('with no threshold set nothing fires, however much is spent', () => {
    const d = detector(base);
    assert.deepEqual(codes(feed(d, paid(0, 'n1', 's'), 1000)), []);
  });
});
