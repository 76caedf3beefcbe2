// Small DOM helpers shared by the views. Every value goes into the page as text, never as HTML.

export const $ = (id) => document.getElementById(id);

/** Builds an element: h('td', { class: 'x', title }, 'text', child…). Strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat(Number.POSITIVE_INFINITY)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
export const badge = (word) => h('span', { class: `badge b-${word}` }, word);
export const risk = (r) => h('span', { class: `r-${r}` }, r);
export const time = (iso) => {
  const d = new Date(iso);
  return h('time', { datetime: iso, title: iso }, d.toLocaleTimeString([], { hour12: false }));
};

export function toast(text, bad = false) {
  const t = $('toast');
  t.textContent = text;
  t.className = bad ? 'toast bad' : 'toast';
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    t.hidden = true;
  }, 4000);
}

const timers = {};
export function debounce(key, fn, ms = 120) {
  clearTimeout(timers[key]);
  timers[key] = setTimeout(fn, ms);
}
