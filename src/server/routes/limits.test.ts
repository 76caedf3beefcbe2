import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Warden } from '../../pipeline/warden.js';
import { testWarden } from '../../testing/index.js';
import { createApp } from '../app.js';
import { TokenRegistry } from '../tokens.js';

let warden: Warden;
let app: ReturnType<typeof createApp>;
const T = { viewer: 'viewer-token-0123456789', research: 'research-agent-0123456789' };

before(async () => {
  warden = await testWarden({
    agents: { research: { allow: ['search.web', 'tool.call'] }, writer: { allow: ['search.web'] } },
    limits: {
      rate: [{ windows: { '1m': 10 } }],
      budgets: [{ usd: 5, period: 'day' }],
      steps: { max: 20 },
      loop: { max: 5 },
    },
  });
  const tokens = new TokenRegistry([]);
  tokens.register(T.viewer, { name: 'vic', role: 'viewer' });
  tokens.register(T.research, { name: 'research-bot', role: 'agent', agent: 'research' });
  app = createApp(warden, tokens);
  const ok = () => 'ok';
  for (let i = 0; i < 3; i++)
    await warden.run({ agent: 'research', type: 'search.web', session: 's1', params: { i } }, ok);
  await warden.run({ agent: 'research', type: 'tool.call', cost: { usd: 0.25 } }, ok);
  await warden.run({ agent: 'writer', type: 'search.web' }, ok);
});
after(() => warden.close());

const get = (path: string, token: string) =>
  app.request(path, { headers: { authorization: `Bearer ${token}` } });

type View = { agents: { agent: string; limits: Record<string, unknown>[] }[] };

describe('GET /v1/limits', () => {
  test('shows each agent’s usage against its limits, in the documented shape', async () => {
    const r = await get('/v1/limits', T.viewer);
    assert.equal(r.status, 200);
    const view = (await r.json()) as View;
    assert.deepEqual(
      view.agents.map((a) => a.agent),
      ['research', 'writer'],
    );
    const research = view.agents[0]?.limits ?? [];
    const rate = research.find((l) => l.kind === 'rate');
    assert.deepEqual(rate, {
      name: 'rate:agent:1m',
      kind: 'rate',
      scope: 'agent',
      key: 'research',
      used: 4,
      reserved: 0,
      limit: 10,
      unit: 'calls',
      window: '1m',
    });
    const budget = research.find((l) => l.kind === 'budget');
    assert.equal(budget?.used, 0.25);
    assert.equal(budget?.unit, 'usd');
    assert.equal(budget?.window, 'day');
    assert.ok(Date.parse(budget?.resetsAt as string) > Date.now());
    const steps = research.find((l) => l.kind === 'steps');
    assert.deepEqual(
      { key: steps?.key, used: steps?.used, limit: steps?.limit, unit: steps?.unit },
      { key: 'research/s1', used: 3, limit: 20, unit: 'steps' },
    );
    for (const l of research) {
      assert.deepEqual(
        Object.keys(l).filter(
          (k) =>
            ![
              'name',
              'kind',
              'scope',
              'key',
              'used',
              'reserved',
              'limit',
              'unit',
              'window',
              'resetsAt',
              'counts',
            ].includes(k),
        ),
        [],
      );
    }
  });

  test('each loop counter says which call it counts, found in the audit', async () => {
    const view = (await (await get('/v1/limits?agent=research', T.viewer)).json()) as View;
    const loops = (view.agents[0]?.limits ?? []).filter((l) => l.kind === 'loop');
    assert.deepEqual(loops.map((l) => l.counts).sort(), [
      'search.web 0',
      'search.web 1',
      'search.web 2',
      'tool.call',
    ]);
  });

  test('an agent token sees only its own agent, and may not ask for another', async () => {
    const own = (await (await get('/v1/limits', T.research)).json()) as View;
    assert.deepEqual(
      own.agents.map((a) => a.agent),
      ['research'],
    );
    const other = await get('/v1/limits?agent=writer', T.research);
    assert.equal(other.status, 403);
    const filtered = (await (await get('/v1/limits?agent=writer', T.viewer)).json()) as View;
    assert.deepEqual(
      filtered.agents.map((a) => a.agent),
      ['writer'],
    );
  });
});
