// The first page: decisions per minute by effect, spend against budget, anomalies and kills on
// the same time axis, open approvals with their age, and the top deny and ask reasons. The
// figures are aggregated by the server from the store (GET /v1/overview); the page only draws.
import { api, state } from './api.js';
import { agentColor, colors, drawChart } from './charts.js';
import { $, badge, h, risk, toast } from './dom.js';
import { age, traceLink, usd } from './format.js';

let windowName = '1h';
let busy = false;

export async function refreshOverview() {
  if (!state.me || busy) return;
  busy = true;
  try {
    const o = await api('GET', `/v1/overview?window=${windowName}`);
    render(o);
  } catch (err) {
    if (err.status !== 401) toast(`overview: ${err.message}`, true);
  } finally {
    busy = false;
  }
}

function render(o) {
  const since = Date.parse(o.since) / 1000;
  const until = Date.parse(o.until) / 1000;
  const step = o.bucketSeconds;
  const xs = [];
  for (let t = since; t < until; t += step) xs.push(t);
  const index = new Map(xs.map((t, i) => [t, i]));
  const at = (iso) => index.get(Math.floor(Date.parse(iso) / 1000 / step) * step);
  const c = colors();
  const range = [since, until];

  // Decisions per bucket, gaps filled with zero.
  const effects = ['allow', 'ask', 'deny'];
  const ys = effects.map(() => xs.map(() => 0));
  for (const b of o.decisions) {
    const i = at(b.t);
    if (i === undefined) continue;
    effects.forEach((e, k) => {
      ys[k][i] = b[e];
    });
  }
  $('decisions-unit').textContent = step === 60 ? 'per minute' : `per ${step / 60} minutes`;
  drawChart($('chart-decisions'), {
    range,
    data: [xs, ...ys],
    series: effects.map((e) => ({ label: e, color: c[e], fill: true })),
  });

  // Spend: cumulative per agent over the window, with each agent's budget as a dashed line.
  const agents = [...new Set([...o.spend.map((s) => s.agent), ...o.budgets.map((b) => b.agent)])].sort();
  const spendSeries = [];
  const spendData = [];
  agents.forEach((agent, k) => {
    const per = xs.map(() => 0);
    for (const s of o.spend) if (s.agent === agent && at(s.t) !== undefined) per[at(s.t)] += s.usd;
    let sum = 0;
    spendData.push(
      per.map((v) => {
        sum += v;
        return Math.round(sum * 1e6) / 1e6;
      }),
    );
    spendSeries.push({ label: `${agent} spent`, color: agentColor(k) });
    for (const b of o.budgets.filter((x) => x.agent === agent)) {
      spendData.push(xs.map(() => b.usd));
      spendSeries.push({
        label: `${agent} budget (${b.name}, per ${b.window})`,
        color: agentColor(k),
        dash: true,
      });
    }
  });
  if (spendSeries.length)
    drawChart($('chart-spend'), { range, data: [xs, ...spendData], series: spendSeries });
  else $('chart-spend').replaceChildren(h('p', { class: 'empty' }, 'no spend and no budgets in this window'));

  // Anomalies and kills: one lane per agent, on the same time axis.
  const lanes = [...new Set(o.events.map((e) => e.agent))].sort();
  const eventXs = [...new Set(o.events.map((e) => Math.floor(Date.parse(e.ts) / 1000)))].sort(
    (a, b) => a - b,
  );
  const kinds = [
    ['anomaly', c.ask],
    ['kill', c.deny],
    ['revive', c.allow],
  ];
  const eventData = kinds.map(([kind]) =>
    eventXs.map((t) => {
      const e = o.events.find((x) => x.type === kind && Math.floor(Date.parse(x.ts) / 1000) === t);
      return e ? lanes.indexOf(e.agent) : null;
    }),
  );
  drawChart($('chart-events'), {
    range,
    height: Math.max(120, 60 + lanes.length * 28),
    data: [eventXs, ...eventData],
    yRange: [-0.5, Math.max(0.5, lanes.length - 0.5)],
    lanes: lanes.length,
    yValues: (_u, ticks) =>
      ticks.map((t) => (Number.isInteger(t) ? (lanes[t] === '*' ? 'all agents' : (lanes[t] ?? '')) : '')),
    series: kinds.map(([kind, color]) => ({ label: kind, color, points: true })),
  });
  $('event-list').replaceChildren(
    ...(o.events.length
      ? o.events
          .slice(-12)
          .reverse()
          .map((e) =>
            h(
              'li',
              { dataset: { seq: e.seq, type: e.type } },
              badge(e.type),
              ` ${new Date(e.ts).toLocaleTimeString([], { hour12: false })} `,
              h('strong', {}, e.agent === '*' ? 'all agents' : e.agent),
              ` ${e.code}: ${e.message}`,
              e.actionId ? [' ', traceLink(e.agent, undefined, e.actionId)] : '',
            ),
          )
      : [h('li', { class: 'muted' }, 'no anomaly, kill or revive in this window')]),
  );

  // Open approvals, oldest first, with their age.
  const pending = [...o.approvals].sort((a, b) => b.ageSeconds - a.ageSeconds);
  $('open-approvals').replaceChildren(
    ...(pending.length
      ? pending.map((a) =>
          h(
            'tr',
            { dataset: { approval: a.id } },
            h('td', {}, age(a.ageSeconds)),
            h('td', {}, a.agent),
            h('td', {}, h('code', {}, a.type)),
            h('td', {}, risk(a.risk)),
            h('td', {}, `${a.votes} of ${a.required}`),
            h(
              'td',
              {},
              h('a', { href: '#approvals' }, 'decide'),
              ' ',
              traceLink(a.agent, a.session, a.actionId),
            ),
          ),
        )
      : [h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'nothing waits for a decision'))]),
  );

  for (const effect of ['deny', 'ask']) {
    const rows = o.reasons.filter((r) => r.effect === effect);
    $(`${effect}-reasons`).replaceChildren(
      ...(rows.length
        ? rows.map((r) =>
            h(
              'tr',
              { dataset: { code: r.code } },
              h('td', { class: 'mono' }, r.count),
              h('td', {}, h('code', {}, r.code)),
              h('td', { class: 'details' }, r.message),
              h('td', {}, h('a', { href: `#audit?q=${encodeURIComponent(r.code)}` }, 'records')),
            ),
          )
        : [h('tr', {}, h('td', { colspan: 4, class: 'empty' }, `no ${effect} in this window`))]),
    );
  }

  const total = (e) => o.decisions.reduce((n, b) => n + b[e], 0);
  const spent = o.spend.reduce((n, s) => n + s.usd, 0);
  $('overview-kpis').replaceChildren(
    ...[
      ['allowed', total('allow')],
      ['asked', total('ask')],
      ['denied', total('deny')],
      ['spent', usd(spent)],
      ['open approvals', o.approvals.length],
      ['anomalies', o.events.filter((e) => e.type === 'anomaly').length],
      ['kills', o.events.filter((e) => e.type === 'kill').length],
    ].map(([label, value]) =>
      h('div', { class: 'kpi', dataset: { kpi: label } }, h('strong', {}, value), label),
    ),
  );
  $('overview-info').textContent =
    `since ${new Date(o.since).toLocaleString([], { hour12: false })} · aggregated by the server in ${o.serverMs} ms`;
  document.body.dataset.overviewAt = String(Date.now());
}

for (const b of document.querySelectorAll('#view-overview [data-window]'))
  b.addEventListener('click', () => {
    windowName = b.dataset.window;
    for (const x of document.querySelectorAll('#view-overview [data-window]'))
      x.setAttribute('aria-pressed', String(x === b));
    refreshOverview();
  });
