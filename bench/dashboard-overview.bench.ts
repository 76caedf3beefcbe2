import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createWarden } from '../src/pipeline/warden.js';
import { policyFromObject } from '../src/policy/load.js';
import { createApp } from '../src/server/app.js';
import { startServer } from '../src/server/serve.js';
import { TokenRegistry } from '../src/server/tokens.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import type { AuditEntry } from '../src/store/store.js';
import { type BenchRow, percentile } from './report.js';

const RECORDS = Number(process.env.WARDEN_BENCH_OVERVIEW_RECORDS ?? 500_000);
const BATCH = 5000;
const TOKEN = 'bench-overview-viewer-0123456789';
const CHROMIUM = process.env.WARDEN_CHROMIUM ?? '/usr/bin/chromium';

/** A day of records, oldest first: decisions (allow, ask, deny), results with a cost, some anomalies. */
function entry(i: number, start: number, span: number): AuditEntry {
  const ts = new Date(start + Math.floor((i / RECORDS) * span)).toISOString();
  const agent = `agent-${i % 8}`;
  const id = `act_${Math.floor(i / 2)}`;
  if (i % 2 === 1)
    return {
      type: 'result',
      agent,
      actionId: id,
      ts,
      data: { status: 'completed', actual: { usd: 0.001, via: 'reported' } },
    };
  const effect = i % 20 === 0 ? 'deny' : i % 30 === 0 ? 'ask' : 'allow';
  return {
    type: i % 5000 === 0 ? 'anomaly' : 'decision',
    agent,
    actionId: id,
    ts,
    data: {
      action: {
        type: 'fs.read',
        params: { path: `/data/doc-${i}.txt` },
        session: `s-${Math.floor(i / 400)}`,
      },
      decision: {
        id,
        effect,
        risk: 'low',
        reasons: [
          { code: effect === 'deny' ? `fs.code-${i % 7}` : 'default.allow', stage: 'guards', message: 'why' },
        ],
      },
      code: 'anomaly.loop',
      message: 'a loop',
    },
  };
}

async function p50(times: number, fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < times; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  return percentile(
    samples.sort((a, b) => a - b),
    50,
  );
}

/**
 * The overview on a day of 500,000 audit records: the one-time roll-up of the whole log, then
 * `GET /v1/overview` for a day and an hour (server time, from the roll-up tables) beside a bare
 * SQL aggregate of the same decisions per minute over the audit rows, the cost of 1,000 new
 * records on the next read, and the time to the first chart in Chromium beside the page's own load.
 */
export async function benchDashboardOverview(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-overview-'));
  const file = join(dir, 'warden.db');
  const store = await openSqliteStore(file, { sync: 'normal' });
  const warden = await createWarden({
    store,
    policy: policyFromObject({ agents: { 'agent-0': { allow: ['fs.read'] } } }),
  });
  const rows: BenchRow[] = [];
  const row = (metric: string, value: number, baseline?: { name: string; value: number }) =>
    rows.push({ scenario: 'dashboard', metric, value, unit: 'ms', ...(baseline ? { baseline } : {}) });
  try {
    const span = 23 * 3_600_000;
    const start = Date.now() - span - 60_000;
    let t = performance.now();
    for (let i = 0; i < RECORDS; i += BATCH)
      await store.audit.append(
        Array.from({ length: Math.min(BATCH, RECORDS - i) }, (_, k) => entry(i + k, start, span)),
      );
    process.stdout.write(`  seeded ${RECORDS} records in ${Math.round(performance.now() - t)} ms\n`);

    const bare = new Database(file, { readonly: true });
    const aggregate = bare.prepare(
      `SELECT substr(json_extract(CAST(payload AS TEXT), '$.ts'), 1, 16) AS m,
              json_extract(CAST(payload AS TEXT), '$.data.decision.effect') AS e, count(*)
       FROM audit WHERE type = 'decision' GROUP BY m, e`,
    );
    t = performance.now();
    aggregate.all();
    const bareMs = performance.now() - t;

    t = performance.now();
    await store.insights.catchUp();
    row(`roll-up of ${RECORDS / 1000}k records, once (in 5k-row slices)`, performance.now() - t, {
      name: 'bare SQL aggregate of the same day',
      value: bareMs,
    });

    const tokens = new TokenRegistry([]);
    tokens.register(TOKEN, { name: 'bench', role: 'viewer' });
    const app = createApp(warden, tokens);
    const overview = async (window: string) => {
      const r = await app.request(`/v1/overview?window=${window}`, {
        headers: { authorization: `Bearer ${TOKEN}` },
      });
      return (await r.json()) as { serverMs: number };
    };
    for (const window of ['24h', '1h']) {
      const server: number[] = [];
      const total = await p50(20, async () => server.push((await overview(window)).serverMs));
      row(
        `GET /v1/overview?window=${window} on ${RECORDS / 1000}k records, server p50`,
        percentile(
          server.sort((a, b) => a - b),
          50,
        ),
        {
          name: 'bare SQL aggregate over the audit rows',
          value: bareMs,
        },
      );
      row(`GET /v1/overview?window=${window}, request p50`, total);
    }
    const more = Array.from({ length: 1000 }, (_, k) => entry(k, Date.now() - 30_000, 1000));
    await store.audit.append(more);
    const next = await overview('24h');
    row('overview after 1,000 new records (rolls them up), server', next.serverMs, {
      name: 'bare SQL aggregate',
      value: bareMs,
    });
    bare.close();

    if (existsSync(CHROMIUM)) rows.push(...(await firstChart(warden)));
    else process.stdout.write(`  Chromium missing at ${CHROMIUM}: no time-to-first-chart figure\n`);
    return rows;
  } finally {
    await warden.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Opens the dashboard in Chromium, signs in, and times the overview's first chart. */
async function firstChart(warden: Awaited<ReturnType<typeof createWarden>>): Promise<BenchRow[]> {
  const { chromium } = await import('playwright-core');
  const tokens = new TokenRegistry([]);
  tokens.register(TOKEN, { name: 'bench', role: 'viewer' });
  const server = await startServer(warden, tokens, { port: 0 });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${server.url}/dashboard/`);
    await page.fill('#login-token', TOKEN);
    await page.click('#login-form button[type=submit]');
    await page.waitForSelector('#chart-decisions canvas');
    // Again with the session cookie set: a cold page load up to the first chart.
    await page.reload();
    await page.waitForSelector('#chart-decisions canvas', { timeout: 60_000 });
    const [chartMs, shellMs] = await page.evaluate(() => {
      const g = globalThis as unknown as {
        document: { body: { dataset: Record<string, string> } };
        performance: { getEntriesByType(t: string): { domContentLoadedEventEnd: number }[] };
      };
      return [
        Number(g.document.body.dataset.firstChartMs),
        g.performance.getEntriesByType('navigation')[0]?.domContentLoadedEventEnd ?? 0,
      ];
    });
    return [
      {
        scenario: 'dashboard',
        metric: `overview: page load to first chart in Chromium (${RECORDS / 1000}k records)`,
        value: chartMs,
        unit: 'ms',
        baseline: { name: 'the page itself loaded (DOMContentLoaded)', value: shellMs },
      },
    ];
  } finally {
    await browser.close();
    await server.close();
  }
}
