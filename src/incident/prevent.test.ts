import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createWarden } from '../pipeline/warden.js';
import { parsePolicyText } from '../policy/load.js';
import { MemoryStore } from '../store/memory/memory-store.js';
import { proposePrevention } from './prevent.js';
import { emptyReport, type IncidentReport } from './report.js';

const POLICY = `# the team's policy
agents:
  coder:
    allow: [search.web, tool.call]   # what it may do
  helper:
    allow: [search.web]

# limits, kept tight
limits:
  budgets:
    - usd: 10   # per agent
`;

type Anomaly = IncidentReport['anomalies'][number];

function report(anomalies: Anomaly[], timeline: IncidentReport['timeline'] = []): IncidentReport {
  const r = emptyReport('coder', new Date('2026-01-01T00:00:00.000Z'), new Date('2026-01-01T01:00:00.000Z'));
  return { ...r, generatedAt: r.until, records: timeline.length, anomalies, timeline };
}

const loop: Anomaly = {
  seq: 7,
  ts: '2026-01-01T00:00:10.000Z',
  code: 'anomaly.loop',
  message: 'agent `coder` repeated the same `search.web` 5 times within 1m',
  actionType: 'search.web',
  details: { type: 'search.web', repeats: 5, window: '1m', digest: 'abc' },
};

/** The lines a unified diff adds and removes, without the file headers. */
function changes(diff: string): { added: string[]; removed: string[] } {
  const lines = diff.split('\n').filter((l) => !/^(\+\+\+|---) /.test(l));
  return {
    added: lines.filter((l) => l.startsWith('+')).map((l) => l.slice(1)),
    removed: lines.filter((l) => l.startsWith('-')).map((l) => l.slice(1)),
  };
}

describe('incident prevent: rate limits', () => {
  test('a loop yields a limits.rate entry for that agent and type, at half the repeats over its window', () => {
    const p = proposePrevention(report([loop]), POLICY, 'warden.yaml');
    assert.deepEqual(
      p.rates.map((r) => r.rate),
      [
        {
          name: 'prevent-coder-search.web',
          scope: ['agent', 'type'],
          match: { agent: 'coder', type: 'search.web' },
          windows: { '1m': 2 },
        },
      ],
    );
    const { added, removed } = changes(p.diff);
    // Only additions: the file's comments, spacing and flow lists are left as they were.
    assert.deepEqual(removed, []);
    assert.ok(p.after.startsWith(POLICY), p.after);
    assert.ok(added.includes('  rate:'), added.join('\n'));
    assert.ok(added.includes('    - name: prevent-coder-search.web'), added.join('\n'));
    assert.ok(added.includes('      windows: { 1m: 2 }'), added.join('\n'));
    assert.ok(
      added.some((l) => /^ {4}#.*anomaly\.loop.*5 `search\.web` within 1m → at most 2 per 1m/.test(l)),
    );
    assert.deepEqual(p.advice, [], 'nothing is left as advice when the limit is in the diff');
    const limits = parsePolicyText(p.after).config.limits;
    assert.equal(limits.budgets.length, 1, 'the existing budget is kept');
    assert.equal(limits.rate.length, 1);
  });

  test('the applied proposal denies the agent’s repeated action of that type with limits.rate, and only that', async () => {
    const p = proposePrevention(report([loop]), POLICY, 'warden.yaml');
    const warden = await createWarden({ policy: parsePolicyText(p.after), store: new MemoryStore() });
    try {
      const request = { agent: 'coder', type: 'search.web', params: { q: 'the same query' } };
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) {
        const { decision } = await warden.decide(request);
        seen.push(`${decision.effect} ${decision.reasons[0]?.code}`);
      }
      // The proposal also asks a human for this type; the rate limit holds whatever the human says.
      assert.deepEqual(
        seen.slice(0, 2).map((s) => s.split(' ')[0]),
        ['ask', 'ask'],
      );
      assert.equal(seen[2], 'deny limits.rate', seen.join(', '));
      const over = (await warden.decide(request)).decision;
      assert.equal(over.effect, 'deny');
      assert.equal(over.reasons[0]?.code, 'limits.rate');
      assert.match(
        over.reasons[0]?.message ?? '',
        /rate limit `prevent-coder-search\.web` reached: at most 2 actions per 1m for agent\+type `coder\/search\.web`/,
      );
      for (let i = 0; i < 5; i++) {
        const read = await warden.decide({ agent: 'coder', type: 'tool.call', params: { tool: 'lookup' } });
        assert.equal(read.decision.effect, 'allow', 'another type of the agent is not limited');
        const other = await warden.decide({ ...request, agent: 'helper' });
        assert.equal(other.decision.effect, 'allow', 'another agent’s requests are not limited');
      }
    } finally {
      await warden.close();
    }
  });

  test('re-running on the proposed policy proposes nothing new', () => {
    const first = proposePrevention(report([loop]), POLICY, 'warden.yaml');
    const again = proposePrevention(report([loop]), first.after, 'warden.yaml');
    assert.deepEqual(again.rates, []);
    assert.deepEqual(again.proposals, []);
    assert.equal(again.diff, '');
    assert.equal(again.after, first.after);
  });

  test('a rate rule of that name already in the policy is not proposed again, whatever its figures', () => {
    const policy = `${POLICY}  rate:\n    - name: prevent-coder-search.web\n      windows: { 1h: 100 }\n`;
    const p = proposePrevention(report([loop]), policy, 'warden.yaml');
    assert.deepEqual(p.rates, []);
    assert.equal(parsePolicyText(p.after).config.limits.rate.length, 1);
  });

  test('appends to an existing limits.rate after its entries, and creates limits when there is none', () => {
    const withRate = `${POLICY}  rate:\n    - windows: { 1s: 5 }   # everyone\n  steps: { max: 50 }\n`;
    const appended = proposePrevention(report([loop]), withRate, 'warden.yaml');
    assert.deepEqual(changes(appended.diff).removed, []);
    const rate = parsePolicyText(appended.after).config.limits.rate;
    assert.deepEqual(
      rate.map((r) => r.name),
      [undefined, 'prevent-coder-search.web'],
    );
    assert.ok(
      appended.after.includes('      windows: { 1m: 2 }\n  steps: { max: 50 }\n'),
      `inserted after the last rate entry, before the next key:\n${appended.after}`,
    );

    const bare = 'agents:\n  coder:\n    allow: [search.web]\n';
    const created = proposePrevention(report([loop]), bare, 'warden.yaml');
    assert.ok(created.after.startsWith(bare));
    assert.equal(parsePolicyText(created.after).config.limits.rate[0]?.name, 'prevent-coder-search.web');
  });

  test('a cost spike counts the admitted actions of its type in its window; with a loop, each window keeps the tighter figure', () => {
    const at = (s: number) => new Date(Date.parse('2026-01-01T00:00:00.000Z') + s * 1000).toISOString();
    const timeline = [
      ...[1, 2, 3, 4, 5, 6, 7].map((s) => ({
        seq: s,
        ts: at(s),
        type: 'decision',
        actionType: 'search.web',
        effect: 'allow',
        summary: '',
      })),
      { seq: 8, ts: at(8), type: 'decision', actionType: 'search.web', effect: 'deny', summary: '' },
      { seq: 9, ts: at(9), type: 'decision', actionType: 'tool.call', effect: 'allow', summary: '' },
    ];
    const spike: Anomaly = {
      seq: 10,
      ts: at(10),
      code: 'anomaly.cost-spike',
      message: 'agent `coder` spent $9.00 within 5m',
      actionType: 'search.web',
      details: { windowUsd: 9, baselineUsd: 1, factor: 3, window: '5m' },
    };
    const alone = proposePrevention(report([spike], timeline), POLICY, 'warden.yaml');
    // 7 admitted requests (the denied one and the read do not count) → at most 3 per 5m.
    assert.deepEqual(alone.rates[0]?.rate.windows, { '5m': 3 });

    const both = proposePrevention(
      report([loop, spike, { ...loop, seq: 11, details: { ...loop.details, repeats: 9 } }], timeline),
      POLICY,
      'warden.yaml',
    );
    assert.equal(both.rates.length, 1, 'one limit per agent and type');
    assert.deepEqual(both.rates[0]?.rate.windows, { '1m': 2, '5m': 3 });
    assert.equal(both.rates[0]?.because.length, 3);
  });

  test('a failure rate gets no rate limit; figures the report lacks or a `*` in a name leave advice instead', () => {
    const failures: Anomaly = {
      seq: 3,
      ts: '2026-01-01T00:00:10.000Z',
      code: 'anomaly.failure-rate',
      message: '50% failed',
      actionType: 'search.web',
      details: { failed: 10, total: 20, rate: 0.5, threshold: 0.1, window: '5m' },
    };
    const failing = proposePrevention(report([failures]), POLICY, 'warden.yaml');
    assert.deepEqual(failing.rates, []);
    assert.deepEqual(failing.advice, []);

    const noWindow = proposePrevention(
      report([{ ...loop, details: { type: 'search.web', repeats: 5 } }]),
      POLICY,
      'warden.yaml',
    );
    assert.deepEqual(noWindow.rates, []);
    assert.match(
      noWindow.advice[0] ?? '',
      /^rate-limit `search\.web` for agent `coder` after anomaly\.loop \(.*\); not proposed: the report gives no window/,
    );

    const unseen = proposePrevention(
      report([{ ...loop, code: 'anomaly.cost-spike', details: { windowUsd: 9, window: '5m' } }]),
      POLICY,
      'warden.yaml',
    );
    assert.deepEqual(unseen.rates, []);
    assert.match(
      unseen.advice[0] ?? '',
      /not proposed: the report holds no count of `search\.web` within 5m/,
    );

    const starred = proposePrevention(
      report([{ ...loop, actionType: 'mcp.*', details: { ...loop.details, type: 'mcp.*' } }]),
      POLICY,
      'warden.yaml',
    );
    assert.deepEqual(starred.rates, []);
    assert.match(starred.advice[0] ?? '', /`\*` in a limit's `match` is a wildcard/);
  });

  test('a window given in seconds becomes a duration key', () => {
    const p = proposePrevention(
      report([{ ...loop, details: { ...loop.details, window: 90 } }]),
      POLICY,
      'warden.yaml',
    );
    assert.deepEqual(p.rates[0]?.rate.windows, { '90s': 2 });
  });

  test('rules go above the existing rules and nothing else in the file changes', () => {
    const policy = `${POLICY}rules:\n  # reviewed 2026-01\n  - { id: no-prod, effect: deny, match: { type: sql.query } }\n`;
    const p = proposePrevention(report([loop]), policy, 'warden.yaml');
    assert.deepEqual(changes(p.diff).removed, []);
    const ids = parsePolicyText(p.after).config.rules.map((r) => r.id);
    assert.deepEqual(ids, ['prevent-loop-coder-search-web', 'no-prod']);
  });

  test('a flow-style limits section is re-rendered, and still gets the rate limit', () => {
    const policy = 'agents:\n  coder:\n    allow: [search.web]\nlimits: { budgets: [{ usd: 10 }] }\n';
    const p = proposePrevention(report([loop]), policy, 'warden.yaml');
    const limits = parsePolicyText(p.after).config.limits;
    assert.equal(limits.rate[0]?.name, 'prevent-coder-search.web');
    assert.equal(limits.budgets[0]?.usd, 10);
  });

  test('a JSON policy stays JSON', () => {
    const json = JSON.stringify({ agents: { coder: { allow: ['search.web'] } } }, null, 2);
    const p = proposePrevention(report([loop]), json, 'warden.json');
    const value = JSON.parse(p.after);
    assert.equal(value.limits.rate[0].name, 'prevent-coder-search.web');
    assert.deepEqual(value.agents, { coder: { allow: ['search.web'] } });
  });
});
