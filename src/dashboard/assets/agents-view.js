// Agents with their state, limits and spend, and the kill switch (admins, after a confirmation).
import { api, canOperate, viewerTitle } from './api.js';
import { $, badge, h, toast } from './dom.js';

export async function refreshAgents() {
  try {
    const [{ agents, kills }, limits] = await Promise.all([
      api('GET', '/v1/agents'),
      api('GET', '/v1/limits').catch((err) => (err.status === 404 ? null : Promise.reject(err))),
    ]);
    const global = kills.find((k) => k.agent === '*');
    $('global-stop').hidden = !global;
    if (global)
      $('global-stop').textContent =
        `Global stop in force since ${global.at} by ${global.by}: ${global.reason}`;
    const byAgent = new Map((limits?.agents ?? []).map((a) => [a.agent, a.limits]));
    $('agent-rows').replaceChildren(
      ...agents.map((a) => {
        const killed = a.state === 'killed';
        const disabled = !canOperate();
        return h(
          'tr',
          { dataset: { agent: a.name, state: a.state } },
          h(
            'td',
            {},
            h('strong', {}, a.name),
            h('div', { class: 'muted' }, a.description ?? ''),
            h('div', { class: 'muted mono' }, (a.allow ?? []).join(' ')),
          ),
          h(
            'td',
            {},
            badge(a.state),
            a.stop ? h('div', { class: 'muted' }, `${a.stop.by}: ${a.stop.reason || 'no reason given'}`) : '',
          ),
          h('td', {}, limitsCell(limits, byAgent.get(a.name))),
          h(
            'td',
            {},
            killed
              ? h(
                  'button',
                  {
                    disabled,
                    title: disabled ? viewerTitle('revive agents') : '',
                    onclick: () =>
                      confirmThen(`Revive ${a.name}?`, `${a.name} may act again.`, (reason) =>
                        api('POST', `/v1/agents/${encodeURIComponent(a.name)}/revive`, { reason }),
                      ),
                  },
                  'Revive',
                )
              : h(
                  'button',
                  {
                    class: 'danger kill',
                    disabled,
                    title: disabled ? viewerTitle('kill agents') : '',
                    onclick: () =>
                      confirmThen(
                        `Kill ${a.name}?`,
                        `Every action of ${a.name} is denied, in-flight runs are aborted and its pending approval requests are cancelled, until it is revived.`,
                        (reason) => api('POST', `/v1/agents/${encodeURIComponent(a.name)}/kill`, { reason }),
                      ),
                  },
                  'Kill',
                ),
          ),
        );
      }),
    );
  } catch (err) {
    if (err.status !== 401) toast(`agents: ${err.message}`, true);
  }
}

function limitsCell(all, limits) {
  if (!all) return h('span', { class: 'muted' }, 'no limits configured');
  if (!limits?.length) return h('span', { class: 'muted' }, 'none for this agent');
  return h(
    'div',
    { class: 'limits' },
    limits.map((l) => {
      const ratio = l.limit > 0 ? Math.min(1, (l.used + (l.reserved ?? 0)) / l.limit) : 0;
      const meter = h('span', { class: ratio >= 0.9 ? 'meter high' : 'meter' }, h('i'));
      meter.firstChild.style.width = `${Math.round(ratio * 100)}%`;
      return h(
        'div',
        { dataset: { kind: l.kind } },
        h('code', {}, l.name),
        ' ',
        h('span', { class: 'counts muted' }, countsText(l)),
        meter,
        `${fmt(l.used)}${l.reserved ? ` (+${fmt(l.reserved)} held)` : ''} / ${fmt(l.limit)} ${l.unit ?? ''}`,
        l.window ? h('span', { class: 'muted' }, ` per ${l.window}`) : '',
        l.resetsAt
          ? h(
              'span',
              { class: 'muted' },
              ` · resets ${new Date(l.resetsAt).toLocaleTimeString([], { hour12: false })}`,
            )
          : '',
      );
    }),
  );
}
/** What a limit row counts, in words: `loop: fs.list /data/research`, `rate: agent research-agent`. */
function countsText(l) {
  const parts = String(l.key ?? '').split('/');
  if (l.kind === 'loop') {
    const session = parts.length >= 3 ? parts.at(-2) : undefined;
    return `loop: ${l.counts ?? `one repeated call (${parts.at(-1)})`}${session && session !== '-' ? ` in session ${session}` : ''}`;
  }
  return `${l.kind}: ${l.unit} of ${l.scope} ${l.key}`;
}
const fmt = (n) =>
  typeof n === 'number' ? (Number.isInteger(n) ? String(n) : n.toFixed(2)) : String(n ?? '?');

function confirmThen(title, text, act) {
  const dialog = $('confirm');
  $('confirm-title').textContent = title;
  $('confirm-text').textContent = text;
  $('confirm-reason').value = '';
  dialog.onclose = async () => {
    if (dialog.returnValue !== 'ok') return;
    try {
      await act($('confirm-reason').value);
      toast(`${title.replace('?', '')}: done`);
    } catch (err) {
      toast(`${err.code}: ${err.message}`, true);
    }
    refreshAgents();
  };
  dialog.showModal();
}

$('kill-all').addEventListener('click', () =>
  confirmThen('Stop all agents?', 'Every agent is denied until the global stop is lifted.', (reason) =>
    api('POST', '/v1/kill-all', { reason }),
  ),
);
$('revive-all').addEventListener('click', () =>
  confirmThen('Lift the global stop?', 'Agents not stopped one by one may act again.', (reason) =>
    api('POST', '/v1/revive-all', { reason }),
  ),
);
