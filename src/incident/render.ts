import type { Finding, IncidentReport } from './report.js';

const usd = (n: number) => `$${n.toFixed(2)}`;
const finding = (f: Finding | undefined) =>
  f
    ? `${f.code} at ${f.ts} (record ${f.seq}${f.actionId ? `, action ${f.actionId}` : ''}${f.actionType ? `, ${f.actionType}` : ''}): ${f.message}`
    : 'none';
const list = (items: string[]) => (items.length === 0 ? ['- none'] : items.map((i) => `- \`${i}\``));

/** The report as Markdown, for a ticket or a post-mortem. */
export function reportMarkdown(r: IncidentReport): string {
  const out: string[] = [
    `# Incident report: agent \`${r.agent}\``,
    '',
    `Window ${r.since} — ${r.until}; ${r.records} audit records; generated ${r.generatedAt}.`,
    '',
    '## Root cause candidates',
    '',
    `- **First anomaly**: ${finding(r.rootCause.firstAnomaly)}`,
    `- **First denial**: ${finding(r.rootCause.firstDenial)}`,
    `- **Untrusted input before the first sign**: ${finding(r.rootCause.untrustedInput)}`,
    '',
    '## Cost',
    '',
    `Total ${usd(r.cost.totalUsd)}${
      Object.keys(r.cost.byType).length
        ? ` (${Object.entries(r.cost.byType)
            .map(([t, v]) => `${t} ${usd(v)}`)
            .join(', ')})`
        : ''
    }.`,
    '',
    '## Damage',
    '',
    `Actions: ${r.actions.decided} decided, ${r.actions.allowed} allowed, ${r.actions.asked} asked, ${r.actions.denied} denied; ${r.actions.completed} completed, ${r.actions.failed} failed.`,
    '',
    `### Files written (${r.damage.filesWritten.length})`,
    ...list(r.damage.filesWritten),
    '',
    `### Files deleted (${r.damage.filesDeleted.length})`,
    ...list(r.damage.filesDeleted),
    '',
    `### Database: ${r.damage.rowsChanged} rows changed by ${r.damage.sqlWrites.length} writes`,
    ...list(r.damage.sqlWrites),
    '',
    `### Requests sent (${r.damage.requestsSent.length})`,
    ...list(r.damage.requestsSent.map((q) => `${q.method} ${q.url} (${q.status})`)),
    '',
    '### Money moved',
    ...list(r.damage.moneyMoved.map((m) => `${m.amount} ${m.currency} in ${m.payments} payments`)),
    '',
    `## Anomalies (${r.anomalies.length})`,
    '',
    ...(r.anomalies.length
      ? r.anomalies.map(
          (a) =>
            `- ${a.ts} \`${a.code}\` ${a.message}${a.response && a.response !== 'none' ? ` → ${a.response}` : ''}`,
        )
      : ['- none']),
    '',
    `## Denials (${r.denials.length})`,
    '',
    ...(r.denials.length
      ? r.denials.map((d) => `- ${d.ts} \`${d.actionType}\` \`${d.code}\`: ${d.message}`)
      : ['- none']),
    '',
    '## Interventions',
    '',
    ...(r.interventions.length
      ? r.interventions.map(
          (i) => `- ${i.ts} ${i.type}${i.actor ? ` by ${i.actor}` : ''}${i.detail ? `: ${i.detail}` : ''}`,
        )
      : ['- none']),
    '',
    '## Timeline',
    '',
    '| seq | time | record | summary |',
    '|---|---|---|---|',
    ...r.timeline.map((t) => `| ${t.seq} | ${t.ts} | ${t.type} | ${t.summary.replaceAll('|', '\\|')} |`),
    '',
  ];
  return out.join('\n');
}

const esc = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );

/** The report as a self-contained HTML page (every value escaped). */
export function reportHtml(r: IncidentReport): string {
  const li = (items: string[]) =>
    `<ul>${items.length ? items.map((i) => `<li><code>${esc(i)}</code></li>`).join('') : '<li>none</li>'}</ul>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Incident report: ${esc(r.agent)}</title>
<style>body{font:14px system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}</style></head>
<body>
<h1>Incident report: agent <code>${esc(r.agent)}</code></h1>
<p>Window ${esc(r.since)} — ${esc(r.until)}; ${r.records} audit records; generated ${esc(r.generatedAt)}.</p>
<h2>Root cause candidates</h2>
<ul><li><b>First anomaly</b>: ${esc(finding(r.rootCause.firstAnomaly))}</li>
<li><b>First denial</b>: ${esc(finding(r.rootCause.firstDenial))}</li>
<li><b>Untrusted input before the first sign</b>: ${esc(finding(r.rootCause.untrustedInput))}</li></ul>
<h2>Cost</h2><p>Total ${usd(r.cost.totalUsd)}</p>
<h2>Damage</h2>
<h3>Files written (${r.damage.filesWritten.length})</h3>${li(r.damage.filesWritten)}
<h3>Files deleted (${r.damage.filesDeleted.length})</h3>${li(r.damage.filesDeleted)}
<h3>Database: ${r.damage.rowsChanged} rows changed</h3>${li(r.damage.sqlWrites)}
<h3>Requests sent (${r.damage.requestsSent.length})</h3>${li(r.damage.requestsSent.map((q) => `${q.method} ${q.url} (${q.status})`))}
<h3>Money moved</h3>${li(r.damage.moneyMoved.map((m) => `${m.amount} ${m.currency} in ${m.payments} payments`))}
<h2>Anomalies (${r.anomalies.length})</h2>${li(r.anomalies.map((a) => `${a.ts} ${a.code}: ${a.message}`))}
<h2>Denials (${r.denials.length})</h2>${li(r.denials.map((d) => `${d.ts} ${d.actionType} ${d.code}: ${d.message}`))}
<h2>Timeline</h2>
<table><tr><th>seq</th><th>time</th><th>record</th><th>summary</th></tr>
${r.timeline.map((t) => `<tr><td>${t.seq}</td><td>${esc(t.ts)}</td><td>${esc(t.type)}</td><td>${esc(t.summary)}</td></tr>`).join('\n')}
</table>
</body></html>
`;
}
