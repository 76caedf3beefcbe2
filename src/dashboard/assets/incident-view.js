// `warden incident report` as a page: timeline chart, cost, damage, root cause, the denials and
// anomalies, and the proposed policy change as a diff; admins can export it (Markdown).
import { api, canOperate, state, viewerTitle } from './api.js';
import { colors, drawChart } from './charts.js';
import { $, badge, h, toast } from './dom.js';
import { rawDetails, traceLink, usd } from './format.js';

const LANES = ['allow', 'ask', 'deny', 'anomaly', 'intervention'];

export async function showIncident(parts) {
  if (!state.me) return;
  const [agent] = parts.map(decodeURIComponent);
  const select = $('incident-agent');
  const exportButton = $('incident-export');
  exportButton.disabled = !canOperate();
  exportButton.title = canOperate()
    ? 'download the report and the proposed diff as Markdown'
    : viewerTitle('export incident reports');
  try {
    if (!select.options.length) {
      const { agents } = await api('GET', '/v1/agents');
      select.replaceChildren(...agents.map((a) => h('option', { value: a.name }, a.name)));
    }
    if (agent) {
      if (![...select.options].some((o) => o.value === agent))
        select.append(h('option', { value: agent }, agent));
      select.value = agent;
      await build();
    }
  } catch (err) {
    if (err.status !== 401) toast(`incident: ${err.message}`, true);
  }
}

const params = () =>
  new URLSearchParams({ agent: $('incident-agent').value, since: $('incident-since').value.trim() || '24h' });

async function build() {
  const body = $('incident-body');
  try {
    const { report, prevention } = await api('GET', `/v1/incident?${params()}`);
    render(report, prevention);
  } catch (err) {
    body.replaceChildren(h('p', { class: 'banner bad' }, `${err.code}: ${err.message}`));
  }
}

function finding(agent, f) {
  if (!f) return h('span', { class: 'muted' }, 'none');
  return h(
    'span',
    {},
    h('code', {}, f.code),
    ` at ${new Date(f.ts).toLocaleString([], { hour12: false })}${f.actionType ? ` (${f.actionType})` : ''}: ${f.message} `,
    f.actionId ? traceLink(agent, undefined, f.actionId) : '',
  );
}

const list = (items, empty = 'none') =>
  items.length
    ? h(
        'ul',
        {},
        items.map((i) => h('li', {}, i)),
      )
    : h('p', { class: 'muted' }, empty);

function render(r, prevention) {
  const c = colors();
  const panel = (title, ...children) => h('section', { class: 'panel' }, h('h3', {}, title), ...children);
  const timeline = h('div', {
    id: 'chart-incident',
    class: 'chart',
    role: 'img',
    'aria-label': 'the incident timeline',
  });
  const dmg = r.damage;
  $('incident-body').replaceChildren(
    h(
      'div',
      { class: 'kpis' },
      [
        ['records', r.records],
        ['decided', r.actions.decided],
        ['allowed', r.actions.allowed],
        ['asked', r.actions.asked],
        ['denied', r.actions.denied],
        ['completed', r.actions.completed],
        ['failed', r.actions.failed],
        ['cost', usd(r.cost.totalUsd)],
      ].map(([k, v]) => h('div', { class: 'kpi', dataset: { kpi: k } }, h('strong', {}, v), k)),
    ),
    panel(`Timeline of ${r.agent}`, timeline),
    h(
      'div',
      { class: 'facts' },
      panel(
        'Root cause',
        h(
          'dl',
          { class: 'root-cause' },
          h('dt', {}, 'first sign'),
          h('dd', {}, finding(r.agent, r.rootCause.firstSign)),
          h('dt', {}, 'untrusted input before it'),
          h('dd', {}, finding(r.agent, r.rootCause.untrustedInput)),
          h('dt', {}, 'first anomaly'),
          h('dd', {}, finding(r.agent, r.rootCause.firstAnomaly)),
          h('dt', {}, 'first denial'),
          h('dd', {}, finding(r.agent, r.rootCause.firstDenial)),
        ),
      ),
      panel(
        `Cost ${usd(r.cost.totalUsd)}`,
        list(
          Object.entries(r.cost.byType).map(([t, v]) => [h('code', {}, t), ` ${usd(v)}`]),
          'nothing spent',
        ),
      ),
      panel(
        'Damage',
        h(
          'div',
          { class: 'damage' },
          list(
            [
              ...dmg.filesWritten.map((f) => `wrote ${f}`),
              ...dmg.filesDeleted.map((f) => `deleted ${f}`),
              ...dmg.sqlWrites.map((s) => `SQL: ${s}`),
              ...(dmg.rowsChanged ? [`${dmg.rowsChanged} rows changed`] : []),
              ...dmg.requestsSent.map((q) => `${q.method} ${q.url} (${q.status})`),
              ...dmg.moneyMoved.map((m) => `${m.amount} ${m.currency} in ${m.payments} payments`),
            ],
            'no files, rows, requests or money touched',
          ),
        ),
      ),
      panel(
        'Interventions',
        list(
          r.interventions.map((i) => [
            badge(i.type.split('.')[0]),
            ` ${i.type} by ${i.actor ?? '?'}: ${i.detail}`,
          ]),
          'none',
        ),
      ),
    ),
    panel(
      `Proposed policy change (${prevention.policy})`,
      prevention.diff
        ? diffView(prevention.diff)
        : h('p', { class: 'muted' }, 'no policy change to propose from this report'),
      prevention.proposals.length
        ? list(prevention.proposals.map((p) => [h('code', {}, p.rule.id), ` ${p.because}`]))
        : '',
      prevention.advice.length ? list(prevention.advice.map((a) => `advice: ${a}`)) : '',
    ),
    panel(
      `Denials (${r.denials.length}) and anomalies (${r.anomalies.length})`,
      h(
        'table',
        { class: 'grid' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Time', 'Kind', 'Action', 'Code', 'Message', ''].map((t) => h('th', {}, t)),
          ),
        ),
        h(
          'tbody',
          { id: 'incident-findings' },
          [...r.denials.map((f) => ['denial', f]), ...r.anomalies.map((f) => ['anomaly', f])]
            .sort((a, b) => a[1].seq - b[1].seq)
            .slice(0, 200)
            .map(([kind, f]) =>
              h(
                'tr',
                { dataset: { seq: f.seq } },
                h('td', {}, new Date(f.ts).toLocaleTimeString([], { hour12: false })),
                h('td', {}, badge(kind === 'denial' ? 'denied' : 'anomaly')),
                h('td', {}, h('code', {}, f.actionType ?? '')),
                h('td', {}, h('code', {}, f.code)),
                h('td', { class: 'details' }, f.message),
                h('td', {}, f.actionId ? traceLink(r.agent, undefined, f.actionId) : ''),
              ),
            ),
        ),
      ),
    ),
    rawDetails(r, 'the whole report (JSON)'),
  );
  // One lane per kind of event, on the report's time axis.
  const since = Date.parse(r.since) / 1000;
  const until = Date.parse(r.until) / 1000;
  const lane = (e) =>
    e.type === 'anomaly' ? 3 : ['kill', 'revive', 'override'].includes(e.type) ? 4 : LANES.indexOf(e.effect);
  const events = r.timeline.filter((e) => lane(e) >= 0);
  const xs = [...new Set(events.map((e) => Math.floor(Date.parse(e.ts) / 1000)))].sort((a, b) => a - b);
  const data = LANES.map((_, k) =>
    xs.map((t) =>
      events.some((e) => lane(e) === k && Math.floor(Date.parse(e.ts) / 1000) === t) ? k : null,
    ),
  );
  // The axis spans what happened (padded), not the whole window asked for: an incident of a few
  // minutes in a 24-hour window would be one dot otherwise.
  const first = xs[0] ?? since;
  const last = xs.at(-1) ?? until;
  const pad = Math.max(30, (last - first) * 0.05);
  drawChart(timeline, {
    range: [Math.max(since, first - pad), Math.min(Math.max(until, last), last + pad)],
    lanes: LANES.length,
    height: 200,
    data: [xs, ...data],
    yRange: [-0.5, LANES.length - 0.5],
    yValues: (_u, ticks) => ticks.map((t) => (Number.isInteger(t) ? (LANES[t] ?? '') : '')),
    series: LANES.map((name, k) => ({
      label: name,
      color: [c.allow, c.ask, c.deny, c.crit, c.accent][k],
      points: true,
    })),
  });
}

function diffView(diff) {
  return h(
    'pre',
    { class: 'diff', 'aria-label': 'proposed policy diff' },
    diff.split('\n').map((line) => {
      const cls =
        line.startsWith('+++') || line.startsWith('---')
          ? 'file'
          : line.startsWith('+')
            ? 'add'
            : line.startsWith('-')
              ? 'del'
              : line.startsWith('@@')
                ? 'hunk'
                : '';
      return h('span', { class: cls }, `${line}\n`);
    }),
  );
}

$('incident-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const agent = $('incident-agent').value;
  if (!agent) return;
  if (location.hash === `#incident/${encodeURIComponent(agent)}`) build();
  else location.hash = `#incident/${encodeURIComponent(agent)}`;
});

$('incident-export').addEventListener('click', async () => {
  try {
    const res = await fetch(`/v1/incident/export?${params()}&format=md`, { credentials: 'same-origin' });
    if (!res.ok) {
      const data = await res.json().catch(() => ({}));
      throw new Error(data.error?.message ?? res.statusText);
    }
    const name =
      /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'incident.md';
    const url = URL.createObjectURL(await res.blob());
    const a = h('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
    toast(`exported ${name}`);
  } catch (err) {
    toast(`export: ${err.message}`, true);
  }
});
