// The live feed: audit records as they commit, newest first.
import { api, state } from './api.js';
import { $, badge, h, time, toast } from './dom.js';
import { readable, traceLink } from './format.js';

const FEED_MAX = 500;

export function summary(r) {
  const d = r.data ?? {};
  if (r.type === 'decision') {
    const reason = d.decision?.reasons?.[0];
    return [
      d.action?.type ?? 'invalid',
      badge(d.decision?.effect ?? '?'),
      reason ? `${reason.code}: ${reason.message}` : '',
    ];
  }
  if (r.type === 'result') return ['', badge(d.status ?? '?'), d.reason?.code ?? d.error ?? ''];
  if (r.type === 'approval.vote')
    return [
      `${d.approvalId}`,
      badge(d.vote === 'approve' ? 'approved' : 'denied'),
      `${r.actor} via ${d.channel} → ${d.status} (${d.approvals}/${d.required})${d.comment ? ` “${d.comment}”` : ''}`,
    ];
  if (r.type === 'approval.request')
    return [`${d.approvalId}`, badge('pending'), `needs ${d.required} of ${(d.roles ?? []).join('/')}`];
  if (r.type === 'approval.expired')
    return [`${d.approvalId}`, badge('expired'), `no decision before ${d.expiresAt}`];
  if (r.type === 'approval.cancelled')
    return [`${d.approvalId}`, badge('cancelled'), `${r.actor}: ${d.reason}`];
  if (r.type === 'kill')
    return [r.agent === '*' ? 'all agents' : '', badge('killed'), `${r.actor ?? ''}: ${d.reason ?? ''}`];
  if (r.type === 'revive')
    return [r.agent === '*' ? 'all agents' : '', badge('running'), `${r.actor ?? ''}: ${d.reason ?? ''}`];
  if (r.type === 'anomaly')
    return [
      d.code ?? 'anomaly',
      badge(d.severity ?? 'anomaly'),
      `${d.message ?? ''}${d.response && d.response !== 'none' ? ` → ${d.response}` : ''}`,
    ];
  if (r.type === 'observation')
    return [
      d.source ?? '',
      badge(d.trust ?? 'untrusted'),
      `session ${d.session ?? '?'}${Array.isArray(d.labels) && d.labels.length ? ` · labels: ${d.labels.join(', ')}` : ''}`,
    ];
  if (r.type === 'override')
    return [d.change ?? '', badge('override'), `${r.actor ?? ''}: ${d.reason ?? ''}`];
  if (r.type === 'mcp.refused') return [d.tool ?? '', badge('denied'), `${d.code ?? ''}: ${d.message ?? ''}`];
  // Any other record: its fields as text, never as JSON.
  return ['', '', readable(d, 200)];
}

/** The link to a record's trace: decisions and what follows them (results, votes, anomalies). */
export function recordTrace(r) {
  if (!r.agent || r.agent === '*') return '';
  const session =
    r.type === 'decision' ? r.data?.action?.session : r.type === 'observation' ? r.data?.session : undefined;
  return traceLink(r.agent, session, r.actionId);
}

function activityRow(r, flash) {
  const [what, outcome, reason] = summary(r);
  return h(
    'tr',
    { class: flash ? 'flash' : '', dataset: { seq: r.seq, type: r.type, action: r.actionId ?? '' } },
    h('td', { class: 'mono' }, r.seq),
    h('td', {}, time(r.ts)),
    h('td', {}, r.type),
    h('td', {}, r.agent ?? ''),
    h('td', {}, h('code', {}, what), r.actionId ? h('span', { class: 'muted mono' }, ` ${r.actionId}`) : ''),
    h('td', {}, outcome),
    h('td', { class: 'details', title: typeof reason === 'string' ? reason : '' }, reason),
    h('td', {}, recordTrace(r)),
  );
}

export function addActivity(record, flash) {
  const body = $('activity-rows');
  body.prepend(activityRow(record, flash));
  state.feed++;
  while (body.childElementCount > FEED_MAX) body.lastElementChild.remove();
}

export async function loadActivity() {
  try {
    const { records } = await api('GET', '/v1/audit/search?limit=100');
    const body = $('activity-rows');
    const have = new Set([...body.children].map((tr) => tr.dataset.seq));
    for (const r of records.reverse()) if (!have.has(String(r.seq))) addActivity(r, false);
    const rows = [...body.children].sort((a, b) => Number(b.dataset.seq) - Number(a.dataset.seq));
    body.replaceChildren(...rows);
  } catch (err) {
    if (err.status !== 401) toast(`activity: ${err.message}`, true);
  }
}
