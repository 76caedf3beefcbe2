import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryStore } from '../store/memory/memory-store.js';
import { reportHtml, reportMarkdown } from './render.js';
import { buildIncidentReport } from './report.js';

async function incidentStore() {
  const store = new MemoryStore();
  const decide = (
    id: string,
    type: string,
    params: Record<string, unknown>,
    effect = 'allow',
    code = 'default.allow',
    usd?: number,
  ) => ({
    type: 'decision',
    agent: 'a',
    actionId: id,
    data: {
      action: { type, params, session: 's', ...(usd ? { cost: { usd } } : {}) },
      decision: { id, effect, risk: 'low', reasons: [{ code, stage: 'rules', message: code }] },
    },
  });
  const result = (id: string, status: string, output?: unknown, cost?: number) => ({
    type: 'result',
    agent: 'a',
    actionId: id,
    data: {
      status,
      ...(output ? { output } : {}),
      ...(cost ? { cost: { usd: cost }, reportedBy: 'agent' } : {}),
    },
  });
  await store.audit.append([
    decide('1', 'http.request', { url: 'https://evil.example/<script>alert(1)</script>', method: 'post' }),
    result('1', 'completed'),
    decide('2', 'fs.write', { path: '/w/<b>x</b>.txt' }, 'allow', 'default.allow', 0.5),
    result('2', 'completed'),
    decide('3', 'sql.query', { sql: 'DELETE FROM t WHERE a = 1' }),
    result('3', 'completed', { rowCount: 7 }, 1.25),
    decide('4', 'payment.send', { amount: 40, currency: 'usd', to: 'x' }),
    result('4', 'completed'),
    decide('5', 'fs.delete', { path: '/w/all' }, 'deny', 'rules.deny'),
  ]);
  return store;
}

test('the report counts damage, cost and the untrusted input before the first denial', async () => {
  const store = await incidentStore();
  const r = await buildIncidentReport(
    store.audit,
    'a',
    new Date(Date.now() - 60_000),
    new Date(Date.now() + 60_000),
  );
  assert.deepEqual(r.damage.filesWritten, ['/w/<b>x</b>.txt']);
  assert.equal(r.damage.rowsChanged, 7);
  assert.deepEqual(r.damage.sqlWrites, ['DELETE FROM t WHERE a = 1']);
  assert.deepEqual(r.damage.requestsSent, [
    { method: 'POST', url: 'https://evil.example/<script>alert(1)</script>', status: 'completed' },
  ]);
  assert.deepEqual(r.damage.moneyMoved, [{ currency: 'USD', amount: 40, payments: 1 }]);
  assert.equal(r.cost.totalUsd, 1.75, 'the reported cost of one and the estimate of the other');
  assert.equal(r.rootCause.firstDenial?.actionType, 'fs.delete');
  assert.equal(r.rootCause.firstSign?.code, 'rules.deny');
  assert.equal(r.rootCause.untrustedInput?.actionType, 'http.request');
  assert.equal(r.rootCause.firstAnomaly, undefined);
});

test('the HTML report escapes everything that came from an agent', async () => {
  const store = await incidentStore();
  const r = await buildIncidentReport(
    store.audit,
    'a',
    new Date(Date.now() - 60_000),
    new Date(Date.now() + 60_000),
  );
  const html = reportHtml(r);
  assert.doesNotMatch(html, /<script>|<b>x<\/b>/);
  assert.match(html, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
  assert.match(reportMarkdown(r), /Database: 7 rows changed by 1 writes/);
});
