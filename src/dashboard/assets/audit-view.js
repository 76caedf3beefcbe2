// The audit log: server-side pages, search, and chain verification.
import { recordTrace, summary } from './activity-view.js';
import { api, state } from './api.js';
import { $, h, toast } from './dom.js';
import { rawDetails } from './format.js';

/** The summary of a record for the audit table: what, outcome, why, a trace link, and its JSON behind a toggle. */
function auditDetails(r) {
  const [what, outcome, reason] = summary(r);
  const trace = recordTrace(r);
  return [
    what ? h('code', {}, what) : '',
    ' ',
    outcome,
    ' ',
    reason,
    trace ? ' ' : '',
    trace,
    rawDetails(r.data),
  ];
}

export async function searchAudit(before) {
  const form = new FormData($('audit-form'));
  const params = new URLSearchParams();
  for (const [k, v] of form) if (String(v).trim()) params.set(k, String(v).trim());
  params.set('limit', '100');
  if (before) params.set('before', String(before));
  const started = performance.now();
  try {
    const page = await api('GET', `/v1/audit/search?${params}`);
    $('audit-rows').replaceChildren(
      ...page.records.map((r) =>
        h(
          'tr',
          { dataset: { seq: r.seq, type: r.type } },
          h('td', { class: 'mono' }, r.seq),
          h('td', { title: r.ts }, new Date(r.ts).toLocaleString([], { hour12: false })),
          h('td', {}, r.type),
          h('td', {}, r.agent ?? ''),
          h('td', { class: 'mono' }, r.actionId ?? ''),
          h('td', {}, r.actor ?? ''),
          h('td', { class: 'details' }, ...auditDetails(r)),
        ),
      ),
    );
    if (!page.records.length)
      $('audit-rows').append(h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'no matching records')));
    state.auditNext = page.next;
    $('audit-older').disabled = page.next === undefined;
    $('audit-newest').disabled = before === undefined;
    const ms = performance.now() - started;
    $('audit-info').textContent =
      `${page.records.length} shown${page.records[0] ? ` (seq ${page.records.at(-1).seq}–${page.records[0].seq})` : ''} · ${page.scanned} examined · ${page.total} records in the log · ${ms.toFixed(0)} ms`;
    document.body.dataset.auditRenderMs = ms.toFixed(1);
  } catch (err) {
    if (err.status !== 401) toast(`audit: ${err.message}`, true);
  }
}
$('audit-form').addEventListener('submit', (e) => {
  e.preventDefault();
  searchAudit();
});
$('audit-older').addEventListener(
  'click',
  () => state.auditNext !== undefined && searchAudit(state.auditNext),
);
$('audit-newest').addEventListener('click', () => searchAudit());
$('verify').addEventListener('click', async () => {
  const out = $('verify-result');
  out.hidden = false;
  out.className = 'banner';
  out.textContent = 'verifying…';
  try {
    const v = await api('GET', '/v1/audit/verify');
    out.className = v.ok ? 'banner ok' : 'banner bad';
    out.textContent = v.ok
      ? `Chain intact: ${v.records} records verified in ${Math.round(v.elapsedMs)} ms; head #${v.headSeq ?? 0} ${v.headHash ?? ''}`
      : `Chain BROKEN at #${v.firstBad?.seq}: ${v.firstBad?.problem}: ${v.firstBad?.message}`;
  } catch (err) {
    out.className = 'banner bad';
    out.textContent = `verification failed: ${err.message}`;
  }
});
