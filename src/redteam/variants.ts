import type { RedteamCase } from './corpus.js';

/** A seeded generator (mulberry32): the same seed gives the same variants on every machine. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Rng = () => number;
/** A rewrite of one string parameter that keeps what the action does (or spells it in a hostile form Warden refuses); undefined when it does not apply. */
type Transform = (value: string, rng: Rng) => string | undefined;

const pick = <T>(items: readonly T[], rng: Rng): T => items[Math.floor(rng() * items.length)] as T;

/** Positions of `ch` in `s` outside single- and double-quoted strings, dollar quotes and comments (SQL and shell). */
function unquoted(s: string, test: (ch: string) => boolean): number[] {
  const out: number[] = [];
  let quote: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    if (quote) {
      if (s.startsWith(quote, i)) {
        i += quote.length - 1;
        quote = undefined;
      } else if (ch === '\\' && quote !== "'" && quote.length === 1) i++;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') quote = ch;
    else if (s.startsWith('--', i)) quote = '\n';
    else if (s.startsWith('/*', i)) quote = '*/';
    else if (ch === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(s.slice(i))?.[0];
      if (tag) {
        quote = tag;
        i += tag.length - 1;
      }
    } else if (ch === '\\') i++;
    else if (test(ch)) out.push(i);
  }
  return out;
}

const PATH: Record<string, Transform> = {
  'dot-segment': (p, rng) => {
    const slashes = [...p.matchAll(/\//g)].map((m) => m.index).filter((i) => i > 0);
    if (slashes.length === 0) return undefined;
    const i = pick(slashes, rng);
    return `${p.slice(0, i)}/.${p.slice(i)}`;
  },
  'double-slash': (p, rng) => {
    const slashes = [...p.matchAll(/\//g)].map((m) => m.index).filter((i) => i > 0);
    if (slashes.length === 0) return undefined;
    const i = pick(slashes, rng);
    return `${p.slice(0, i)}/${p.slice(i)}`;
  },
  case: (p) => {
    const slash = p.lastIndexOf('/');
    const last = p.slice(slash + 1);
    // Only names Warden matches case-insensitively (protected names) keep their meaning in another case.
    if (!/^\.|\.(pem|key|p12|pfx)$|^id_|secrets|config\.json/i.test(last)) return undefined;
    const upper = last.toUpperCase();
    return upper === last ? undefined : p.slice(0, slash + 1) + upper;
  },
  'percent-encoding': (p, rng) => {
    const dots = [...p.matchAll(/\./g)].map((m) => m.index);
    if (dots.length === 0) return undefined;
    const i = pick(dots, rng);
    return `${p.slice(0, i)}%2e${p.slice(i + 1)}`;
  },
  'unicode-confusable': (p, rng) => {
    const dots = [...p.matchAll(/\./g)].map((m) => m.index);
    if (dots.length === 0) return undefined;
    const i = pick(dots, rng);
    return `${p.slice(0, i)}\uff0e${p.slice(i + 1)}`;
  },
};

const SQL: Record<string, Transform> = {
  case: (sql, rng) => {
    const letters = new Set(unquoted(sql, (ch) => /[A-Za-z]/.test(ch)));
    if (letters.size === 0) return undefined;
    let out = '';
    for (let i = 0; i < sql.length; i++) {
      const ch = sql[i] as string;
      out +=
        letters.has(i) && rng() < 0.5 ? (ch === ch.toUpperCase() ? ch.toLowerCase() : ch.toUpperCase()) : ch;
    }
    return out === sql ? undefined : out;
  },
  whitespace: (sql, rng) => {
    const spaces = new Set(unquoted(sql, (ch) => ch === ' '));
    if (spaces.size === 0) return undefined;
    let out = '';
    for (let i = 0; i < sql.length; i++)
      out += spaces.has(i) ? pick(['\t', '\n', '  ', ' /**/ ', '\r\n'], rng) : sql[i];
    return out;
  },
};

const URL_FORMS: Record<string, Transform> = {
  'scheme-case': (url) => {
    const m = /^([a-z][a-z0-9+.-]*):/i.exec(url);
    return m?.[1] ? `${m[1].toUpperCase()}${url.slice(m[1].length)}` : undefined;
  },
  'host-case': (url) => {
    const m = /^([a-z]+:\/\/)([^/:?#@]+)/i.exec(url);
    if (!m?.[2] || !/[a-z]/.test(m[2])) return undefined;
    return `${m[1]}${m[2].toUpperCase()}${url.slice(m[0].length)}`;
  },
  'ip-form': (url, rng) => {
    const m = /^([a-z]+:\/\/)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?=[/:?#]|$)/i.exec(url);
    if (!m) return undefined;
    const parts = m.slice(2, 6).map(Number);
    if (parts.some((n) => n > 255)) return undefined;
    const n =
      (((parts[0] as number) << 24) >>> 0) +
      ((parts[1] as number) << 16) +
      ((parts[2] as number) << 8) +
      (parts[3] as number);
    const form = pick(
      [
        String(n),
        `0x${n.toString(16)}`,
        parts.map((p) => `0${p.toString(8)}`).join('.'),
        `${parts[0]}.${(((parts[1] as number) << 16) + ((parts[2] as number) << 8) + (parts[3] as number)).toString()}`,
        `[::ffff:${parts.join('.')}]`,
      ],
      rng,
    );
    return `${m[1]}${form}${url.slice(m[0].length)}`;
  },
  'trailing-dot': (url) => {
    const m = /^([a-z]+:\/\/)([a-z][a-z0-9.-]*[a-z])(?=[/:?#]|$)/i.exec(url);
    return m ? `${m[1]}${m[2]}.${url.slice(m[0].length)}` : undefined;
  },
  'path-encoding': (url, rng) => {
    const m = /^[a-z]+:\/\/[^/]+(\/[^?#]*)/i.exec(url);
    const path = m?.[1];
    if (!m || !path) return undefined;
    const letters = [...path.matchAll(/[a-z]/gi)].map((x) => x.index);
    if (letters.length === 0) return undefined;
    const i = m[0].length - path.length + pick(letters, rng);
    return `${url.slice(0, i)}%${(url.charCodeAt(i) as number).toString(16)}${url.slice(i + 1)}`;
  },
  'unicode-confusable': (url) => {
    // Fullwidth digits: the URL standard maps them to ASCII, so the host is the same address.
    const m = /^([a-z]+:\/\/)(\d[\d.]*\d)(?=[/:?#]|$)/i.exec(url);
    if (!m?.[2]) return undefined;
    const wide = m[2].replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d)));
    return `${m[1]}${wide}${url.slice(m[0].length)}`;
  },
};

const SHELL: Record<string, Transform> = {
  whitespace: (cmd, rng) => {
    const spaces = unquoted(cmd, (ch) => ch === ' ');
    if (spaces.length === 0) return undefined;
    const i = pick(spaces, rng);
    return `${cmd.slice(0, i)}${pick(['  ', '\t', ' \t '], rng)}${cmd.slice(i + 1)}`;
  },
  quoting: (cmd, rng) => {
    const m = /^([a-z][a-z0-9_-]+)(?=[\s;|&]|$)/.exec(cmd);
    const name = m?.[1];
    if (!name) return undefined;
    const spelled = pick(
      [
        `'${name}'`,
        `"${name}"`,
        `${name[0]}"${name.slice(1)}"`,
        `\\${name}`,
        `${name.slice(0, 1)}''${name.slice(1)}`,
      ],
      rng,
    );
    return spelled + cmd.slice(name.length);
  },
};

/** The transforms that apply to a case, by the parameter they rewrite. */
function transformsOf(c: RedteamCase): { param: string; forms: Record<string, Transform> } | undefined {
  const t = c.action.type;
  if (t.startsWith('fs.') && typeof c.action.params.path === 'string') return { param: 'path', forms: PATH };
  if (t === 'sql.query' && typeof c.action.params.sql === 'string') return { param: 'sql', forms: SQL };
  if (t === 'http.request' && typeof c.action.params.url === 'string')
    return { param: 'url', forms: URL_FORMS };
  if (t === 'shell.exec' && typeof c.action.params.command === 'string')
    return { param: 'command', forms: SHELL };
  return undefined;
}

/**
 * Up to `count` variants of an attack, each one transform of its main parameter chosen with
 * `rng`: encodings (percent-encoding, IP forms), case, Unicode confusables, quoting, whitespace,
 * path and URL forms. Each keeps the action's meaning, or spells it in a form Warden refuses as
 * such (`%2e`, a fullwidth dot). Benign cases and bursts get none. Duplicates are dropped.
 */
export function variantsOf(c: RedteamCase, count: number, rng: Rng): RedteamCase[] {
  if (c.kind !== 'attack' || c.repeat || count <= 0) return [];
  const found = transformsOf(c);
  if (!found) return [];
  const original = c.action.params[found.param] as string;
  const names = Object.keys(found.forms);
  const out: RedteamCase[] = [];
  const seen = new Set<string>([original]);
  // A few more tries than wanted: some transforms do not apply to every value.
  for (let tries = 0; tries < count * 3 && out.length < count; tries++) {
    const name = pick(names, rng);
    const value = (found.forms[name] as Transform)(original, rng);
    if (value === undefined || seen.has(value)) continue;
    seen.add(value);
    out.push({
      ...c,
      id: `${c.id}~${name}`,
      action: { type: c.action.type, params: { ...c.action.params, [found.param]: value } },
    });
  }
  return out;
}
