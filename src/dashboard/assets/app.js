// Warden's operator dashboard: plain ES modules, no build step; the one third-party module is
// uPlot (charts), served by Warden from its own package, never from a CDN.
// Every value from the server goes into the DOM as text (never innerHTML), so an action's
// params cannot inject markup. State-changing calls carry the session's CSRF token.

import { addActivity, loadActivity } from './activity-view.js';
import { refreshAgents } from './agents-view.js';
import { api, canOperate, state, viewerTitle, whenSignedOut } from './api.js';
import { refreshApprovals } from './approvals-view.js';
import { searchAudit } from './audit-view.js';
import { $, debounce, toast } from './dom.js';
import { showIncident } from './incident-view.js';
import { refreshOverview } from './overview-view.js';
import { showTrace } from './trace-view.js';

// ------------------------------------------------------------------ theme

const THEME_KEY = 'warden.theme';
function applyTheme(theme) {
  document.documentElement.dataset.theme = theme;
  $('theme').textContent = theme === 'dark' ? 'Light theme' : 'Dark theme';
  $('theme').setAttribute('aria-pressed', String(theme === 'dark'));
}
applyTheme(
  localStorage.getItem(THEME_KEY) ?? (matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light'),
);
$('theme').addEventListener('click', () => {
  const next = document.documentElement.dataset.theme === 'dark' ? 'light' : 'dark';
  localStorage.setItem(THEME_KEY, next);
  applyTheme(next);
  if (state.me) route(); // charts take their colours from the theme: draw them again
});

// ------------------------------------------------------------------ login

function showLogin() {
  state.me = null;
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== 'view-login';
  $('nav').hidden = true;
  $('signout').hidden = true;
  $('who').textContent = '';
  events?.close();
  $('login-token').focus();
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('login-error').textContent = '';
  try {
    const me = await api('POST', '/v1/session', { token: $('login-token').value });
    $('login-token').value = '';
    signedIn(me);
  } catch (err) {
    $('login-error').textContent = err.message;
  }
});

$('signout').addEventListener('click', async () => {
  await api('DELETE', '/v1/session').catch(() => {});
  showLogin();
});

function signedIn(me) {
  state.me = me;
  state.csrf = me.csrf;
  document.body.dataset.role = me.role;
  $('who').textContent = `${me.name} · ${me.role}`;
  $('nav').hidden = false;
  $('signout').hidden = false;
  for (const b of [$('kill-all'), $('revive-all')]) {
    b.disabled = !canOperate();
    b.title = canOperate() ? '' : viewerTitle('stop agents');
  }
  connectEvents();
  route();
  refreshApprovals();
}

// ------------------------------------------------------------------ routing

const VIEWS = ['overview', 'approvals', 'activity', 'agents', 'audit', 'trace', 'incident'];

/** `#view`, `#view/part/part` (trace, action, incident) or `#audit?q=text`. */
function route() {
  if (!state.me) return showLogin();
  const [path, search = ''] = (location.hash || '#overview').slice(1).split('?');
  const [name, ...parts] = path.split('/');
  const view = name === 'action' ? 'trace' : name;
  state.view = VIEWS.includes(view) ? view : 'overview';
  for (const v of document.querySelectorAll('.view')) v.hidden = v.id !== `view-${state.view}`;
  for (const a of document.querySelectorAll('nav a')) {
    a.classList.toggle('active', a.dataset.view === state.view);
    if (a.dataset.view === state.view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (state.view === 'overview') refreshOverview();
  if (state.view === 'approvals') refreshApprovals();
  if (state.view === 'agents') refreshAgents();
  if (state.view === 'audit') {
    const q = new URLSearchParams(search).get('q');
    if (q !== null) $('audit-form').elements.q.value = q;
    if (q !== null || !$('audit-rows').childElementCount) searchAudit();
  }
  if (state.view === 'activity' && !state.feed) loadActivity();
  if (state.view === 'trace') showTrace(parts, name === 'action' ? 'action' : 'trace');
  if (state.view === 'incident') showIncident(parts);
}
window.addEventListener('hashchange', route);

// ------------------------------------------------------------------ live events

let events;
function connectEvents() {
  events?.close();
  events = new EventSource('/v1/events');
  events.addEventListener('hello', () => $('live').classList.add('on'));
  events.addEventListener('error', () => $('live').classList.remove('on'));
  events.addEventListener('audit', (e) => {
    const record = JSON.parse(e.data);
    addActivity(record, true);
    if (record.type === 'kill' || record.type === 'revive') debounce('agents', refreshAgents);
    if (state.view === 'overview') debounce('overview', refreshOverview, 400);
  });
  events.addEventListener('approval', () => debounce('approvals', refreshApprovals));
  events.addEventListener('overflow', () => toast('the live feed fell behind; some events were skipped'));
}

// ------------------------------------------------------------------ start

api('GET', '/v1/session').then(signedIn, showLogin);

whenSignedOut(showLogin);
