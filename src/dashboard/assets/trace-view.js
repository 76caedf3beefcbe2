// A session's trace: pick an agent and a session and read, in order, what the agent read
// (observations: source, trust, labels), what it proposed, what Warden decided and why (stage,
// guard or rule, code), the approval and its votes, the result and the cost. Content that tainted
// the session, and the decisions it tainted, are highlighted and linked to each other.
import { api, state } from './api.js';
import { $, badge, h, risk, time, toast } from './dom.js';
import { rawDetails, readable, usd } from './format.js';

let agentsLoaded = false;

async function loadAgents(select, wanted) {
  if (!agentsLoaded || !select.options.length) {
    const { agents } = await api('GET', '/v1/agents');
    const names = agents.map((a) => a.name);
    if (wanted && !names.includes(wanted)) names.push(wanted);
    select.replaceChildren(...names.map((n) => h('option', { value: n }, n)));
    agentsLoaded = true;
  }
  if (wanted) select.value = wanted;
}

async function loadSessions(agent, wanted) {
  const { sessions } = await api('GET', `/v1/sessions?agent=${encodeURIComponent(agent)}`);
  const select = $('trace-session');
  const list =
    wanted && !sessions.some((s) => s.session === wanted)
      ? [{ session: wanted, records: 0 }, ...sessions]
      : sessions;
  select.replaceChildren(
    ...(list.length
      ? list.map((s) =>
          h(
            'option',
            { value: s.session },
            `${s.session} (${s.records} records${s.lastTs ? `, last ${new Date(s.lastTs).toLocaleString([], { hour12: false })}` : ''})`,
          ),
        )
      : [h('option', { value: '' }, 'no sessions recorded')]),
  );
  if (wanted) select.value = wanted;
}

/** `#trace`, `#trace/AGENT/SESSION[/ACTION]` or `#action/AGENT/ACTION`. */
export async function showTrace(parts, mode = 'trace') {
  if (!state.me) return;
  const [agent, second, third] = parts.map(decodeURIComponent);
  try {
    await loadAgents($('trace-agent'), agent);
    const chosen = $('trace-agent').value;
    if (!chosen) return;
    if (mode === 'action') {
      await loadSessions(chosen);
      const trace = await api(
        'GET',
        `/v1/actions-trace/${encodeURIComponent(chosen)}/${encodeURIComponent(second)}`,
      );
      $('trace-info').textContent = `action ${second} (no session): ${trace.records} records`;
      return renderSteps(trace.steps, second);
    }
    await loadSessions(chosen, second);
    const session = $('trace-session').value;
    if (!session) {
      $('trace-steps').replaceChildren(h('li', { class: 'empty' }, `${chosen} has no recorded session`));
      $('trace-info').textContent = '';
      return;
    }
    const trace = await api(
      'GET',
      `/v1/sessions/${encodeURIComponent(chosen)}/${encodeURIComponent(session)}`,
    );
    $('trace-info').textContent = `${trace.steps.length} steps from ${trace.records} records`;
    renderSteps(trace.steps, third);
  } catch (err) {
    if (err.status !== 401) toast(`trace: ${err.message}`, true);
  }
}

function renderSteps(steps, focusAction) {
  const sources = new Map(
    steps.filter((s) => s.kind === 'observation').map((s) => [s.observation.source, s]),
  );
  const list = $('trace-steps');
  list.replaceChildren(
    ...(steps.length
      ? steps.map((s, i) => (s.kind === 'observation' ? observationStep(s, i) : actionStep(s, i, sources)))
      : [h('li', { class: 'empty' }, 'no records in this session')]),
  );
  if (focusAction) {
    const target = list.querySelector(`[data-action="${CSS.escape(focusAction)}"]`);
    if (target) {
      target.classList.add('target');
      target.scrollIntoView({ block: 'center' });
      target.focus();
    }
  }
}

function observationStep(s, i) {
  const o = s.observation;
  return h(
    'li',
    {
      id: `step-${s.seq}`,
      tabindex: '-1',
      class: `step observation${s.tainting ? ' tainting' : ''}`,
      dataset: { kind: 'observation', seq: s.seq, source: o.source },
    },
    h(
      'header',
      {},
      h('span', { class: 'n' }, `#${i + 1}`),
      time(s.ts),
      badge('observation'),
      'read ',
      h('code', {}, o.source),
      badge(o.trust),
      o.labels.length
        ? h(
            'span',
            { class: 'chips' },
            o.labels.map((l) => h('span', { class: 'chip hot' }, l)),
          )
        : '',
      s.tainting ? h('strong', {}, ' taints the session') : '',
    ),
    o.findings.length
      ? h(
          'dl',
          {},
          o.findings.map((f) => [h('dt', {}, 'finding'), h('dd', {}, h('code', {}, f.code), ' ', f.message)]),
        )
      : '',
    rawDetails(s.records.map((r) => r.data)),
  );
}

function actionStep(s, i, sources) {
  const d = s.decision;
  const a = s.action;
  const rows = [];
  if (a?.description) rows.push(['proposed', a.description]);
  if (d) {
    const by = [d.rule ? `rule ${d.rule}` : '', d.guard ? `guard ${d.guard}` : '']
      .filter(Boolean)
      .join(' · ');
    rows.push([
      'decided',
      h(
        'span',
        {},
        badge(d.effect),
        ' ',
        d.risk ? risk(d.risk) : '',
        by ? ` by ${by}` : '',
        d.reasons.length ? '' : ' (no reason recorded)',
      ),
    ]);
    for (const r of d.reasons)
      rows.push([
        'why',
        h(
          'span',
          { class: 'reason' },
          h('span', { class: 'muted' }, `${r.stage ?? '?'}${r.guard ? `/${r.guard}` : ''} `),
          h('code', {}, r.code),
          ` ${r.message ?? ''}`,
        ),
      ]);
  }
  if (s.tainted) {
    const source =
      s.tainted.source ??
      [...sources.keys()].find((src) => d?.reasons.some((r) => (r.message ?? '').includes(src)));
    const from = source ? sources.get(source) : undefined;
    rows.push([
      'tainted by',
      h(
        'span',
        {},
        h('code', {}, s.tainted.code),
        source
          ? [
              ' from ',
              from
                ? h('a', { href: `#trace-step-${from.seq}`, dataset: { step: from.seq } }, source)
                : h('code', {}, source),
            ]
          : '',
      ),
    ]);
  }
  if (s.approval) {
    const ap = s.approval;
    rows.push([
      'approval',
      h(
        'span',
        {},
        ap.required ? `needs ${ap.required}${ap.roles?.length ? ` of ${ap.roles.join('/')}` : ''}` : '',
        ap.votes.length
          ? ` · votes: ${ap.votes.map((v) => `${v.vote === 'approve' ? '✓' : '✗'} ${v.by}${v.channel ? ` via ${v.channel}` : ''}${v.comment ? ` “${v.comment}”` : ''}`).join(', ')}`
          : ' · no votes',
        ap.outcome ? [' → ', badge(ap.outcome)] : ' → pending',
      ),
    ]);
  }
  if (s.result)
    rows.push([
      'result',
      h(
        'span',
        {},
        badge(s.result.status),
        s.result.durationMs !== undefined ? ` in ${s.result.durationMs} ms` : '',
        s.result.output !== undefined ? ` · ${readable(s.result.output)}` : '',
        s.result.reason !== undefined ? ` · ${readable(s.result.reason)}` : '',
      ),
    ]);
  if (s.cost)
    rows.push([
      'cost',
      `${s.cost.usd !== undefined ? usd(s.cost.usd) : 'not executed'}${s.cost.estimateUsd !== undefined ? ` (estimate ${usd(s.cost.estimateUsd)})` : ''}`,
    ]);
  for (const an of s.anomalies)
    rows.push([
      'anomaly',
      h(
        'span',
        {},
        badge('anomaly'),
        ' ',
        h('code', {}, an.code),
        ` ${an.message}${an.response && an.response !== 'none' ? ` → ${an.response}` : ''}`,
      ),
    ]);
  return h(
    'li',
    {
      id: `step-${s.seq}`,
      tabindex: '-1',
      class: `step e-${d?.effect ?? 'none'}${s.tainted ? ' tainted' : ''}`,
      dataset: { kind: 'action', seq: s.seq, action: s.actionId ?? '', effect: d?.effect ?? '' },
    },
    h(
      'header',
      {},
      h('span', { class: 'n' }, `#${i + 1}`),
      time(s.ts),
      h('code', {}, a?.type ?? '(no decision recorded)'),
      a ? h('span', { class: 'muted' }, readable(a.params, 120)) : '',
      a?.user ? h('span', { class: 'muted' }, `for ${a.user}`) : '',
    ),
    h(
      'dl',
      {},
      rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]),
    ),
    rawDetails(
      s.records.map((r) => ({
        seq: r.seq,
        type: r.type,
        ...(r.actor ? { actor: r.actor } : {}),
        data: r.data,
      })),
    ),
  );
}

$('trace-steps').addEventListener('click', (e) => {
  const link = e.target.closest('a[data-step]');
  if (!link) return;
  e.preventDefault();
  const step = $(`step-${link.dataset.step}`);
  step?.scrollIntoView({ block: 'center' });
  step?.focus();
});
$('trace-agent').addEventListener('change', async () => {
  try {
    await loadSessions($('trace-agent').value);
  } catch (err) {
    toast(`sessions: ${err.message}`, true);
  }
});
$('trace-form').addEventListener('submit', (e) => {
  e.preventDefault();
  const agent = $('trace-agent').value;
  const session = $('trace-session').value;
  if (agent && session) location.hash = `#trace/${encodeURIComponent(agent)}/${encodeURIComponent(session)}`;
});
