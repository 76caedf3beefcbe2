// Structured records as readable text: a value is written `key: value · key: value`, never as JSON
// in a table cell; the JSON itself is only ever behind a "details" toggle.
import { h } from './dom.js';

const MAX = 160;

/** `{ path: '/data/x', n: 2 }` → `path: /data/x · n: 2`, cut to `max` characters. */
export function readable(value, max = MAX) {
  const text = flat(value, 0);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function flat(v, depth) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v))
    return depth > 1 ? `[${v.length} items]` : v.map((x) => flat(x, depth + 1)).join(', ');
  if (typeof v === 'object') {
    if (depth > 1) return `{${Object.keys(v).length} fields}`;
    return Object.entries(v)
      .map(([k, x]) => `${k}: ${flat(x, depth + 1)}`)
      .join(' · ');
  }
  return String(v);
}

/** The JSON of `value`, folded behind a "details" toggle (keyboard: Tab to it, Enter opens it). */
export function rawDetails(value, label = 'details') {
  let text = JSON.stringify(value, null, 2) ?? '';
  if (text.length > 20_000) text = `${text.slice(0, 20_000)}…`;
  return h('details', { class: 'raw' }, h('summary', {}, label), h('pre', {}, text));
}

export const usd = (n) =>
  typeof n === 'number' ? `$${n < 0.01 && n > 0 ? n.toFixed(4) : n.toFixed(2)}` : '—';

/** `125` → `2m 5s`. */
export function age(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

/** The hash of the trace of a decision: its session's trace when it has one, else the action's own. */
export function traceHref(agent, session, actionId) {
  const e = encodeURIComponent;
  if (session) return `#trace/${e(agent)}/${e(session)}${actionId ? `/${e(actionId)}` : ''}`;
  return `#action/${e(agent)}/${e(actionId ?? '')}`;
}

/** A link to the trace of a decision (every view links decisions this way). */
export function traceLink(agent, session, actionId, text = 'trace') {
  if (!agent || (!session && !actionId)) return '';
  return h('a', { class: 'trace-link', href: traceHref(agent, session, actionId) }, text);
}
