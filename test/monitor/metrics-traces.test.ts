import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { monitorOf } from '../../src/monitor/monitor.js';
import type { Warden } from '../../src/pipeline/warden.js';
import type { PolicyInput } from '../../src/policy/schema.js';
import { type RunningServer, startServer } from '../../src/server/serve.js';
import { TokenRegistry } from '../../src/server/tokens.js';
import { testWarden } from '../../src/testing/index.js';
import { type LocalHttp, localHttp } from './local-servers.js';

const VIEWER = 'viewer-token-0123456789';
const AGENT = 'agent-token-0123456789';

function policy(collector: string, auth: 'token' | 'localhost' = 'token'): PolicyInput {
  return {
    agents: {
      research: { allow: ['fs.read', 'llm.generate'], resources: { paths: ['/data/**'] } },
      payer: { allow: ['payment.send'] },
      idle: { allow: ['fs.read'] },
    },
    monitoring: {
      enabled: true,
      logs: { enabled: false },
      metrics: { auth },
      traces: { endpoint: `${collector}/v1/traces`, serviceName: 'warden-test' },
    },
  };
}

async function exercise(warden: Warden) {
  await warden.run(
    {
      agent: 'research',
      type: 'fs.read',
      session: 'conv-1',
      params: { path: '/data/a.txt' },
      cost: { usd: 0.25 },
    },
    () => 'contents',
  );
  await warden.run({ agent: 'research', type: 'fs.read', params: { path: '/etc/passwd' } }, () => 'x');
  await warden.check({ agent: 'research', type: 'fs.delete', params: { path: '/data/a.txt' } });
  await warden.run({ agent: 'research', type: 'llm.generate', params: { model: 'm' } }, () => {
    throw new Error('model down');
  });
  // An ask that waits: its approval request is pending while we scrape.
  void warden.run(
    { agent: 'payer', type: 'payment.send', params: { amount: 5, currency: 'USD', to: 'x' } },
    () => 'paid',
  );
  // Not the payer: a kill cancels the killed agent's pending approvals.
  await warden.kills.kill('idle', 'ops', 'drill');
  await warden.audit.flush();
  await monitorOf(warden)?.idle();
}

describe('/metrics and OTLP traces', () => {
  let collector: LocalHttp;
  let warden: Warden;
  let server: RunningServer;

  before(async () => {
    collector = await localHttp();
    warden = await testWarden(policy(collector.url));
    const tokens = new TokenRegistry([]);
    tokens.register(VIEWER, { name: 'vic', role: 'viewer' });
    tokens.register(AGENT, { name: 'bot', role: 'agent', agent: 'research' });
    server = await startServer(warden, tokens, { port: 0 });
    await exercise(warden);
  });
  after(async () => {
    await server?.close();
    await warden?.close();
    await collector?.close();
  });

  test('GET /metrics parses as Prometheus text and counts decisions by effect, risk and reason', async () => {
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${VIEWER}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const families = parsePrometheusTextFormat(await res.text());
    const family = (name: string) => {
      const f = families.find((x) => x.name === name);
      assert.ok(f, `metric ${name} is exposed`);
      return f;
    };
    const decisions = family('warden_decisions_total');
    assert.equal(decisions.type, 'COUNTER');
    const find = (labels: Record<string, string>) =>
      decisions.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
    assert.equal(find({ mode: 'run', effect: 'allow', risk: 'low', reason: 'default.allow' })?.value, '1');
    assert.equal(
      find({ mode: 'run', effect: 'allow', risk: 'low-medium', reason: 'default.allow' })?.value,
      '1',
    );
    assert.equal(find({ mode: 'run', effect: 'ask', reason: 'default.financial-approval' })?.value, '1');
    assert.equal(
      find({ mode: 'run', effect: 'deny', reason: 'permissions.resource-not-granted' })?.value,
      '1',
    );
    assert.equal(find({ mode: 'check', effect: 'deny', risk: 'critical' })?.value, '1');

    const stages = family('warden_stage_duration_seconds');
    assert.equal(stages.type, 'HISTOGRAM');
    assert.ok(stages.metrics.length > 0);
    // This parser drops histogram labels; read them from the registry that produced the text.
    const json = await monitorOf(warden)?.metrics?.registry.getMetricsAsJSON();
    const histogram = json?.find((m) => m.name === 'warden_stage_duration_seconds');
    const names = new Set(histogram?.values.map((v) => v.labels.stage));
    for (const s of ['killswitch', 'validate', 'risk', 'permissions', 'guards', 'rules', 'limits'])
      assert.ok(names.has(s), s);

    const spend = family('warden_spend_usd_total').metrics.find((m) => m.labels?.agent === 'research');
    assert.equal(Number(spend?.value), 0.25);
    assert.equal(family('warden_approvals_pending').metrics[0]?.value, '1');
    assert.ok(Number(family('warden_approvals_pending_oldest_age_seconds').metrics[0]?.value) >= 0);
    assert.equal(family('warden_kills_total').metrics.find((m) => m.labels?.scope === 'agent')?.value, '1');
    assert.equal(
      family('warden_results_total').metrics.find((m) => m.labels?.status === 'failed')?.value,
      '1',
    );
    family('warden_sandbox_runs_total');
    family('warden_sandbox_violations_total');
    family('warden_anomalies_total');
  });

  test('GET /metrics needs a reader token when `auth: token`', async () => {
    assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
    const agent = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${AGENT}` } });
    assert.equal(agent.status, 403);
    assert.equal(((await agent.json()) as { error: { code: string } }).error.code, 'auth.forbidden');
  });

  test('OTLP spans arrive at the collector: a warden.action root with GenAI attributes and a child per stage', async () => {
    await monitorOf(warden)?.flushTraces();
    await collector.waitFor((r) => r.some((x) => x.path === '/v1/traces'), 10_000);
    type Attr = { key: string; value: { stringValue?: string; doubleValue?: number; intValue?: string } };
    type Span = { name: string; traceId: string; spanId: string; parentSpanId?: string; attributes: Attr[] };
    const spans: Span[] = [];
    let service: string | undefined;
    for (const r of collector.received) {
      const body = r.json as {
        resourceSpans: { resource: { attributes: Attr[] }; scopeSpans: { spans: Span[] }[] }[];
      };
      for (const rs of body.resourceSpans) {
        service = rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue;
        for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
    }
    assert.equal(service, 'warden-test');
    const attr = (s: Span, key: string) => s.attributes.find((a) => a.key === key)?.value;
    const root = spans.find(
      (s) => s.name === 'warden.action' && attr(s, 'gen_ai.conversation.id')?.stringValue === 'conv-1',
    );
    assert.ok(root, `a root span for the first action among ${spans.map((s) => s.name).join(', ')}`);
    assert.equal(attr(root, 'gen_ai.operation.name')?.stringValue, 'execute_tool');
    assert.equal(attr(root, 'gen_ai.tool.name')?.stringValue, 'fs.read');
    assert.equal(attr(root, 'gen_ai.agent.name')?.stringValue, 'research');
    assert.equal(attr(root, 'warden.decision.effect')?.stringValue, 'allow');
    const children = spans
      .filter((s) => s.traceId === root.traceId && s.parentSpanId === root.spanId)
      .map((s) => s.name);
    for (const s of ['killswitch', 'validate', 'permissions', 'rules', 'limits'])
      assert.ok(children.includes(`warden.stage.${s}`), s);
    assert.ok(children.includes('warden.execute'));
    assert.ok(children.includes('warden.record'));
  });
});

describe('/metrics with `auth: localhost`', () => {
  test('is served without a token to a loopback client', async () => {
    const collector = await localHttp();
    const warden = await testWarden(policy(collector.url, 'localhost'));
    const server = await startServer(warden, new TokenRegistry([]), { port: 0 });
    try {
      const res = await fetch(`${server.url}/metrics`);
      assert.equal(res.status, 200);
      assert.ok(parsePrometheusTextFormat(await res.text()).some((f) => f.name === 'warden_decisions_total'));
    } finally {
      await server.close();
      await warden.close();
      await collector.close();
    }
  });
});
