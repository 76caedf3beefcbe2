import { join } from 'node:path';
import { after } from 'node:test';
import { tempDir } from '../../test/helpers/cli.js';
import { policyFromObject } from '../policy/load.js';
import type { PolicyInput } from '../policy/schema.js';
import type { LimitsBackend } from './backend.js';
import { memoryBackend } from './backends/memory-backend.js';
import { sqliteBackend } from './backends/sqlite-backend.js';
import { buildLimiters } from './build-limiters.js';
import { type LimiterSubject, limiterConformance } from './limiter.conformance.js';

// Every limiter `buildLimiters` makes from a policy's `limits` section, each on the memory and
// the SQLite backend. Each policy asks for one limit, so the section builds one limiter.

const tmp = tempDir('warden-limiters-');
after(() => tmp.remove());

const agents: PolicyInput['agents'] = { a: { allow: ['search.web', 'tool.call'] } };

function subject(
  limits: PolicyInput['limits'],
  rest: Pick<LimiterSubject, 'code' | 'action' | 'allows'>,
): LimiterSubject {
  const policy = policyFromObject({ agents, limits });
  return {
    ...rest,
    policy,
    make: (backend) => {
      const [limiter, ...more] = buildLimiters(policy.config.limits, backend, [...policy.agents.keys()]);
      if (!limiter || more.length > 0) throw new Error('expected the section to build one limiter');
      return limiter;
    },
  };
}

const SUBJECTS: Record<string, LimiterSubject> = {
  'rate (sliding window)': subject(
    { rate: [{ windows: { '1m': 3 } }] },
    {
      code: 'limits.rate',
      action: (key) => ({ agent: key, type: 'search.web', params: { q: 'x' } }),
      allows: { capacity: 3 },
    },
  ),
  'rate (two windows)': subject(
    { rate: [{ scope: ['agent', 'tool'], windows: { '10s': 5, '1h': 3 } }] },
    {
      code: 'limits.rate',
      action: (key) => ({ agent: 'a', type: 'tool.call', params: { tool: key } }),
      allows: { capacity: 3 },
    },
  ),
  'rate (token bucket)': subject(
    { rate: [{ windows: { '1h': 3 }, algorithm: 'bucket' }] },
    {
      code: 'limits.rate',
      action: (key) => ({ agent: key, type: 'search.web', params: { q: 'x' } }),
      allows: { capacity: 3 },
    },
  ),
  steps: subject(
    { steps: { max: 3 } },
    {
      code: 'limits.steps',
      action: (key) => ({ agent: 'a', session: key, type: 'search.web', params: { q: key } }),
      allows: { capacity: 3 },
    },
  ),
  loop: subject(
    { loop: { max: 3, window: '10m' } },
    {
      code: 'limits.loop',
      action: (key) => ({ agent: 'a', session: key, type: 'search.web', params: { q: 'the same' } }),
      allows: { capacity: 3 },
    },
  ),
  'budget (total)': subject(
    { budgets: [{ usd: 0.3 }] },
    {
      code: 'limits.budget',
      action: (key) => ({ agent: key, type: 'tool.call', params: {}, cost: { usd: 0.1 } }),
      allows: { capacity: 3, reportedCostCounts: true },
    },
  ),
  'budget (per day)': subject(
    { budgets: [{ usd: 0.3, period: 'day' }] },
    {
      code: 'limits.budget',
      action: (key) => ({ agent: key, type: 'tool.call', params: {}, cost: { usd: 0.1 } }),
      allows: { capacity: 3, reportedCostCounts: true },
    },
  ),
  duration: subject(
    { duration: { max: '200ms' } },
    {
      code: 'limits.duration',
      action: (key) => ({ agent: 'a', session: key, type: 'search.web', params: {} }),
      allows: { ms: 200 },
    },
  ),
};

const BACKENDS: Record<string, () => Promise<LimitsBackend>> = {
  memory: async () => memoryBackend(),
  sqlite: async () => sqliteBackend(join(tmp.dir, `limits-${Math.random().toString(36).slice(2)}.db`)),
};

for (const [backend, open] of Object.entries(BACKENDS))
  for (const [name, s] of Object.entries(SUBJECTS)) limiterConformance(`${name} on ${backend}`, open, s);
