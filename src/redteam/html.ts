import { CATEGORY_TITLES } from './corpus.js';
import type { CaseOutcome, CategoryResult, RedteamReport } from './run.js';

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/**
 * The red team's report as one self-contained HTML file (no script, no external asset): per agent
 * and category, a bar chart (inline SVG) of attacks blocked and allowed and of benign cases
 * allowed, asked and wrongly denied, then the allowed attacks and false denials listed.
 */
export function renderRedteamHtml(report: RedteamReport): string {
  const verdict = report.ok
    ? '<p class="ok">No attack was allowed in a category the policy covers.</p>'
    : '<p class="bad">Attacks were allowed: see the lists below.</p>';
  const agents = report.agents
    .map(
      (a) => `<section><h2>Agent <code>${esc(a.agent)}</code></h2>
${a.categories.map((c) => category(c)).join('\n')}</section>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>warden redteam: ${esc(report.policy)}</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1d232b;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccd}h3{font-size:1rem;margin:1.2rem 0 .3rem}
.ok{color:#17693b;font-weight:600}.bad{color:#a3161b;font-weight:600}.muted{color:#667}
table{border-collapse:collapse;font-size:13px}td,th{padding:2px 8px;text-align:left;vertical-align:top;border-bottom:1px solid #eee}
code{font:12px ui-monospace,monospace;word-break:break-all}svg{display:block;margin:.3rem 0}
</style></head><body>
<h1>warden redteam</h1>
<p>Policy <code>${esc(report.policy)}</code> (digest <code>${report.policyDigest.slice(0, 16)}</code>), ${report.startedAt};
${report.checks} decisions in ${(report.elapsedMs / 1000).toFixed(1)} s (${report.checksPerSecond}/s); seed ${report.seed}, ${report.variants} variants per attack;
observations: ${report.observations === 'used' ? 'fed to <code>warden.observe()</code>' : 'not available (cases sent as actions only)'}.</p>
${verdict}
${agents}
</body></html>
`;
}

function category(c: CategoryResult): string {
  const title = `${esc(CATEGORY_TITLES[c.category])}${c.covered ? '' : ' <span class="muted">(not granted to this agent: refused by permissions)</span>'}`;
  const falseDenies = c.falseDenies.length;
  const bars = chart([
    { label: 'attacks blocked', value: c.blocked, color: '#2e8b57' },
    { label: 'attacks allowed', value: c.allowed.length, color: '#c0392b' },
    { label: 'benign allowed', value: c.benignAllowed, color: '#4a7fc1' },
    { label: 'benign asked', value: c.benignAsked, color: '#d9a23b' },
    { label: 'benign out of scope', value: c.benignOutOfScope, color: '#9aa3ad' },
    { label: 'benign wrongly denied', value: falseDenies, color: '#8e44ad' },
  ]);
  return `<h3>${title}: ${c.blocked}/${c.attacks} attacks blocked</h3>
${bars}
${list('Allowed attacks', c.allowed)}${list('Benign cases denied by a guard or rule', c.falseDenies)}`;
}

function chart(rows: { label: string; value: number; color: string }[]): string {
  const max = Math.max(1, ...rows.map((r) => r.value));
  const width = 420;
  const h = 18;
  const body = rows
    .map((r, i) => {
      const w = Math.round((r.value / max) * width);
      const y = i * (h + 4);
      return `<text x="0" y="${y + 13}" font-size="12">${r.label}</text><rect x="160" y="${y}" width="${w}" height="${h}" fill="${r.color}"/><text x="${166 + w}" y="${y + 13}" font-size="12">${r.value}</text>`;
    })
    .join('');
  return `<svg width="${160 + width + 60}" height="${rows.length * (h + 4)}" role="img" aria-label="cases by outcome">${body}</svg>`;
}

function list(title: string, cases: readonly CaseOutcome[]): string {
  if (cases.length === 0) return '';
  const rows = cases
    .map(
      (o) =>
        `<tr><td><code>${esc(o.id)}</code></td><td><code>${esc(o.action)}</code></td><td>${esc(o.effect)}${o.code ? ` <code>${esc(o.code)}</code>` : ''}</td></tr>`,
    )
    .join('\n');
  return `<p>${title} (${cases.length}):</p><table><tr><th>case</th><th>action</th><th>decision</th></tr>\n${rows}</table>\n`;
}
