import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { createWarden } from '../src/pipeline/warden.js';
import { policyFromObject } from '../src/policy/load.js';
import { createApp } from '../src/server/app.js';
import { TokenRegistry } from '../src/server/tokens.js';
import { openSqliteStore } from '../src/store/sqlite/sqlite-store.js';
import { benchDashboardOverview } from './dashboard-overview.bench.js';
import { type BenchRow, formatRows, percentile } from './report.js';

const RECORDS = 10_000;
const TOKEN = 'bench-viewer-token-0123456789';

async function p50(times: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  for (let i = 0; i < 5; i++) await fn();
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
 * What the dashboard asks of the server on a 10,000-record log: the newest page of 100 through
 * `GET /v1/audit/search` (auth, query, JSON) beside the bare store query for the same page, and a
 * free-text search over every record beside SQLite scanning the same rows with `LIKE`; then the
 * overview on 500,000 records (`dashboard-overview.bench.ts`).
 */
export async function benchDashboard(): Promise<BenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'warden-bench-dash-'));
  const store = await openSqliteStore(join(dir, 'warden.db'));
  const warden = await createWarden({ store, policy: policyFromObject({}) });
  try {
    await Promise.all(
      Array.from({ length: RECORDS }, (_, i) =>
        warden.audit.append({
          type: 'decision',
          agent: `agent-${i % 8}`,
          actionId: `act_${i}`,
          data: {
            action: { type: 'fs.read', params: { path: `/data/doc-${i}.txt` } },
            decision: { effect: 'allow' },
          },
        }),
      ),
    );
    await warden.audit.flush();
    const tokens = new TokenRegistry([]);
    tokens.register(TOKEN, { name: 'bench', role: 'viewer' });
    const app = createApp(warden, tokens);
    const get = async (path: string) => {
      const r = await app.request(path, { headers: { authorization: `Bearer ${TOKEN}` } });
      await r.text();
    };
    const pageApi = await p50(200, () => get('/v1/audit/search?limit=100'));
    const pageStore = await p50(200, () => store.audit.query({ limit: 100, order: 'desc' }));
    const searchApi = await p50(30, () => get('/v1/audit/search?limit=100&q=doc-4242.txt'));
    const bare = new Database(join(dir, 'warden.db'), { readonly: true });
    const like = bare.prepare(
      "SELECT seq FROM audit WHERE CAST(payload AS TEXT) LIKE '%doc-4242.txt%' ORDER BY seq DESC LIMIT 100",
    );
    const searchBare = await p50(30, () => like.all());
    bare.close();
    const overview = await benchDashboardOverview();
    return [
      ...overview,
      {
        scenario: 'dashboard',
        metric: `audit page of 100, newest (10k log), p50`,
        value: pageApi * 1000,
        unit: 'µs',
        baseline: { name: 'store.audit.query alone', value: pageStore * 1000 },
      },
      {
        scenario: 'dashboard',
        metric: `audit text search over 10k records, p50`,
        value: searchApi,
        unit: 'ms',
        baseline: { name: 'bare SQLite LIKE scan', value: searchBare },
      },
    ];
  } finally {
    await warden.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(formatRows(await benchDashboard()));
}
