// Pending approval requests with Approve / Deny, and the recently decided ones.
import { api, canVote, state, viewerTitle } from './api.js';
import { $, badge, debounce, h, risk, time, toast } from './dom.js';
import { traceLink } from './format.js';

const DECIDED = ['approved', 'denied', 'expired', 'cancelled'];
let approvalsBusy = false;

export async function refreshApprovals() {
  if (!state.me || approvalsBusy) return debounce('approvals-again', refreshApprovals, 200);
  approvalsBusy = true;
  try {
    const [pending, ...decided] = await Promise.all([
      api('GET', '/v1/approvals?status=pending'),
      ...DECIDED.map((s) => api('GET', `/v1/approvals?status=${s}&order=desc&limit=50`)),
    ]);
    const list = pending.approvals;
    const count = $('pending-count');
    count.textContent = String(list.length);
    count.classList.toggle('hot', list.length > 0);
    $('approvals-note').textContent = canVote()
      ? ''
      : `signed in as ${state.me.role}: you can see requests but not decide them`;
    const agents = [...new Set(list.map((a) => a.agent))];
    const histories = new Map(
      await Promise.all(
        agents.map(async (agent) => [
          agent,
          (await api('GET', `/v1/audit/search?agent=${encodeURIComponent(agent)}&type=decision&limit=8`))
            .records,
        ]),
      ),
    );
    const box = $('approvals-list');
    box.replaceChildren(
      ...(list.length
        ? list.map((a) => approvalCard(a, histories.get(a.agent) ?? []))
        : [h('p', { class: 'empty card' }, 'Nothing waits for a decision.')]),
    );
    const recent = decided
      .flatMap((d) => d.approvals)
      .sort((a, b) => (b.decidedAt ?? '').localeCompare(a.decidedAt ?? ''))
      .slice(0, 20);
    $('decided-rows').replaceChildren(
      ...recent.map((a) =>
        h(
          'tr',
          { dataset: { approval: a.id, status: a.status } },
          h('td', {}, badge(a.status)),
          h('td', {}, a.agent),
          h('td', {}, h('code', {}, a.action.type)),
          h('td', {}, risk(a.decision.risk)),
          h(
            'td',
            {},
            a.votes.map((v) => `${v.vote === 'approve' ? '✓' : '✗'} ${v.approver}`).join(', ') || '—',
          ),
          h('td', {}, a.decidedAt ? time(a.decidedAt) : '—'),
          h('td', { class: 'mono' }, a.id, ' ', traceLink(a.agent, a.action.session, a.actionId)),
        ),
      ),
    );
    if (!recent.length)
      $('decided-rows').append(h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'none yet')));
  } catch (err) {
    if (err.status !== 401) toast(`approvals: ${err.message}`, true);
  } finally {
    approvalsBusy = false;
  }
}

function approvalCard(a, history) {
  const approvals = a.votes.filter((v) => v.vote === 'approve').length;
  const allowedRole = a.roles.includes(state.me.role);
  const disabled = !canVote() || !allowedRole;
  const title = !canVote()
    ? viewerTitle('vote')
    : !allowedRole
      ? `this request needs one of ${a.roles.join(', ')}`
      : '';
  const comment = h('input', {
    placeholder: 'comment (optional, recorded)',
    'aria-label': 'comment',
    disabled,
  });
  const send = (vote) => async () => {
    try {
      const body = { digest: a.digest, ...(comment.value ? { comment: comment.value } : {}) };
      const r = await api('POST', `/v1/approvals/${encodeURIComponent(a.id)}/${vote}`, body);
      toast(
        `${a.id}: ${r.approval.status}${r.approval.status === 'pending' ? ` (${r.approval.votes.filter((v) => v.vote === 'approve').length} of ${r.approval.required})` : ''}`,
      );
      refreshApprovals();
    } catch (err) {
      toast(`${err.code}: ${err.message}`, true);
    }
  };
  let params = JSON.stringify(a.action.params ?? {}, null, 2);
  if (params.length > 2000) params = `${params.slice(0, 2000)}…`;
  return h(
    'article',
    { class: 'card approval', dataset: { approval: a.id, agent: a.agent } },
    h(
      'div',
      {},
      h(
        'h3',
        {},
        h('span', {}, a.agent),
        h('code', {}, a.action.type),
        risk(a.decision.risk),
        badge(a.status),
      ),
      h(
        'div',
        { class: 'meta' },
        h('span', { class: 'progress' }, `${approvals} of ${a.required} approvals`),
        h('span', {}, `roles: ${a.roles.join(', ')}`),
        a.user ? h('span', {}, `for ${a.user}`) : null,
        h('span', { class: 'expires', dataset: { expires: a.expiresAt } }, expiresText(a.expiresAt)),
        h('span', { class: 'mono', title: a.digest }, `digest ${a.digest.slice(0, 12)}…`),
        traceLink(
          a.agent,
          a.action.session,
          a.actionId,
          a.action.session ? `session ${a.action.session}` : 'trace',
        ),
      ),
      a.action.description ? h('p', {}, a.action.description) : null,
      h(
        'ul',
        { class: 'reasons' },
        a.decision.reasons.map((r) => h('li', {}, h('code', {}, r.code), ' ', r.message)),
      ),
      h('pre', {}, params),
      a.votes.length
        ? h(
            'p',
            { class: 'muted' },
            'votes: ',
            a.votes
              .map((v) => `${v.approver} (${v.channel}${v.comment ? `: “${v.comment}”` : ''})`)
              .join(', '),
          )
        : null,
      h(
        'div',
        { class: 'actions' },
        comment,
        h('button', { class: 'approve', disabled, title, onclick: send('approve') }, 'Approve'),
        h('button', { class: 'danger', disabled, title, onclick: send('deny') }, 'Deny'),
      ),
    ),
    h(
      'div',
      { class: 'history' },
      h('strong', {}, `${a.agent}: recent decisions`),
      history.length
        ? h(
            'table',
            {},
            history.map((r) =>
              h(
                'tr',
                {},
                h('td', {}, time(r.ts)),
                h('td', {}, h('code', {}, r.data.action?.type ?? '?')),
                h('td', {}, badge(r.data.decision?.effect ?? '?')),
                h(
                  'td',
                  { title: r.data.decision?.reasons?.[0]?.message ?? '' },
                  r.data.decision?.reasons?.[0]?.code ?? '',
                ),
              ),
            ),
          )
        : h('p', { class: 'muted' }, 'no earlier decisions'),
    ),
  );
}

function expiresText(iso) {
  const s = Math.round((Date.parse(iso) - Date.now()) / 1000);
  if (s <= 0) return 'expired';
  return `expires in ${s >= 60 ? `${Math.floor(s / 60)}m ` : ''}${s % 60}s`;
}
setInterval(() => {
  for (const el of document.querySelectorAll('[data-expires]'))
    el.textContent = expiresText(el.dataset.expires);
}, 1000);
