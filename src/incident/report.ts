import { splitRecord } from '../contract/records.js';
import type { DecisionData, ResultData } from '../monitor/spend.js';
import { recordedCostUsd, recordedEstimateUsd } from '../record/records.js';
import { redactSecrets } from '../secrets/redact-secrets.js';
import type { AuditRecord, AuditStore } from '../store/store.js';
import { emptyReport, type Finding, type IncidentReport, type TimelineEntry } from './report-format.js';

// The report's format is in report-format.ts; those who use a report import it from here.
export type { Finding, IncidentReport, TimelineEntry } from './report-format.js';
export { emptyReport } from './report-format.js';

/** Types whose results bring outside (untrusted) content into the agent's context. */
const INPUT_TYPE = /^(http\.request|fs\.read|web\.|browser\.|mcp\.|email\.(read|fetch)|search\b)/;
const TAINT_CODE = /^(taint|content|injection|prompt-injection)\./;

/**
 * Builds the incident report of `agent` over `[since, until]` from its audit records: timeline,
 * cost (as the monitor counts spend, `recordedCostUsd`: the result's actual cost, else the
 * decision's estimate, for executed actions), damage, denials, anomalies, interventions and
 * root-cause candidates.
 */
export async function buildIncidentReport(
  audit: AuditStore,
  agent: string,
  since: Date,
  until: Date,
): Promise<IncidentReport> {
  const records: AuditRecord[] = [];
  let after = 0;
  for (;;) {
    const page = await audit.query({ agent, afterSeq: after, limit: 10_000 });
    for (const r of page) {
      const t = Date.parse(r.ts);
      if (t >= since.getTime() && t <= until.getTime()) records.push(...splitRecord(r));
    }
    const last = page.at(-1);
    if (!last || page.length < 10_000) break;
    after = last.seq;
  }

  const report = emptyReport(agent, since, until, records.length);
  const decisions = new Map<string, DecisionData>();
  const money = new Map<string, { amount: number; payments: number }>();
  const written = new Set<string>();
  const deleted = new Set<string>();
  let lastInput: Finding | undefined;
  let firstAnomaly: Finding | undefined;
  let firstDenial: Finding | undefined;
  let firstSign: Finding | undefined;
  let untrusted: Finding | undefined;

  for (const r of records) {
    const entry: TimelineEntry = { seq: r.seq, ts: r.ts, type: r.type, summary: '' };
    if (r.actionId) entry.actionId = r.actionId;
    if (r.type === 'decision') {
      const d = r.data as DecisionData;
      if (r.actionId) decisions.set(r.actionId, d);
      const type = d.action?.type ?? '(invalid)';
      const effect = d.decision?.effect ?? '?';
      const reason = d.decision?.reasons?.[0];
      Object.assign(entry, { actionType: type, effect, ...(reason ? { code: reason.code } : {}) });
      entry.summary = `${type} ${describeParams(d.action?.params)} → ${effect}${reason ? ` (${reason.code})` : ''}`;
      report.actions.decided++;
      if (effect === 'allow') report.actions.allowed++;
      else if (effect === 'ask') report.actions.asked++;
      else if (effect === 'deny') {
        report.actions.denied++;
        const finding: Finding = {
          seq: r.seq,
          ts: r.ts,
          ...(r.actionId ? { actionId: r.actionId } : {}),
          actionType: type,
          code: reason?.code ?? 'unknown',
          message: reason?.message ?? '',
        };
        report.denials.push(finding);
      }
      if (d.decision?.reasons?.some((x) => TAINT_CODE.test(x.code))) {
        lastInput = {
          seq: r.seq,
          ts: r.ts,
          actionType: type,
          code: 'untrusted-input',
          message: entry.summary,
          ...(r.actionId ? { actionId: r.actionId } : {}),
        };
      }
    } else if (r.type === 'result') {
      const data = r.data as ResultData;
      const d = r.actionId ? decisions.get(r.actionId) : undefined;
      const type = d?.action?.type ?? '?';
      const params = d?.action?.params ?? {};
      const status = data.status ?? '?';
      Object.assign(entry, { actionType: type, status });
      entry.summary = `${type} ${describeParams(params)} ${status}`;
      if (status === 'completed') report.actions.completed++;
      else report.actions.failed++;
      const usd = recordedCostUsd(
        data,
        d && d.decision?.effect !== 'deny' ? recordedEstimateUsd(d) : undefined,
      );
      if (usd !== undefined && usd > 0) {
        report.cost.totalUsd += usd;
        report.cost.byType[type] = (report.cost.byType[type] ?? 0) + usd;
      }
      damage(report, type, params, status, data.output, written, deleted, money);
      if (status === 'completed' && INPUT_TYPE.test(type)) {
        lastInput = {
          seq: r.seq,
          ts: r.ts,
          actionType: type,
          code: 'untrusted-input',
          message: `${type} ${describeParams(params)}`,
          ...(r.actionId ? { actionId: r.actionId } : {}),
        };
      }
    } else if (r.type === 'anomaly') {
      const a = r.data as {
        code?: string;
        message?: string;
        severity?: string;
        response?: string;
        details?: Record<string, unknown>;
      };
      const d = r.actionId ? decisions.get(r.actionId) : undefined;
      report.anomalies.push({
        seq: r.seq,
        ts: r.ts,
        ...(r.actionId ? { actionId: r.actionId } : {}),
        ...(d?.action?.type ? { actionType: d.action.type } : {}),
        code: a.code ?? 'anomaly',
        message: a.message ?? '',
        ...(a.severity ? { severity: a.severity } : {}),
        ...(a.response ? { response: a.response } : {}),
        ...(a.details ? { details: a.details } : {}),
      });
      entry.code = a.code ?? 'anomaly';
      entry.summary = a.message ?? '';
    } else {
      const reason = typeof r.data.reason === 'string' ? r.data.reason : '';
      const change = typeof r.data.change === 'string' ? r.data.change : '';
      entry.summary = `${change || r.type}${reason ? `: ${reason}` : ''}${r.actor ? ` (by ${r.actor})` : ''}`;
      if (r.type === 'kill' || r.type === 'revive' || r.type === 'override') {
        report.interventions.push({
          seq: r.seq,
          ts: r.ts,
          type: change ? `${r.type}.${change}` : r.type,
          ...(r.actor ? { actor: r.actor } : {}),
          detail: reason,
        });
      }
    }
    report.timeline.push(entry);
    const sign = r.type === 'anomaly' || entry.effect === 'deny';
    if (sign && !firstSign) {
      firstSign = r.type === 'anomaly' ? report.anomalies.at(-1) : report.denials.at(-1);
      untrusted = lastInput;
    }
    if (r.type === 'anomaly') firstAnomaly ??= report.anomalies.at(-1);
    if (entry.effect === 'deny') firstDenial ??= report.denials.at(-1);
  }
  if (firstAnomaly) report.rootCause.firstAnomaly = firstAnomaly;
  if (firstDenial) report.rootCause.firstDenial = firstDenial;
  if (firstSign) report.rootCause.firstSign = firstSign;
  if (untrusted) report.rootCause.untrustedInput = untrusted;
  report.cost.totalUsd = round(report.cost.totalUsd);
  for (const k of Object.keys(report.cost.byType))
    report.cost.byType[k] = round(report.cost.byType[k] as number);
  report.damage.filesWritten = [...written];
  report.damage.filesDeleted = [...deleted];
  report.damage.moneyMoved = [...money].map(([currency, m]) => ({
    currency,
    amount: round(m.amount),
    payments: m.payments,
  }));
  // Records written before redaction existed (or by a log with it off) may still hold secrets.
  return redactSecrets(report);
}

function damage(
  report: IncidentReport,
  type: string,
  params: Record<string, unknown>,
  status: string,
  output: unknown,
  written: Set<string>,
  deleted: Set<string>,
  money: Map<string, { amount: number; payments: number }>,
): void {
  const path = typeof params.path === 'string' ? params.path : undefined;
  const done = status === 'completed';
  if (type === 'fs.write' && done && path) written.add(path);
  else if (type === 'fs.delete' && done && path) deleted.add(path);
  else if (type === 'sql.query' && done) {
    const sql = typeof params.sql === 'string' ? params.sql : '';
    if (!/^\s*(select|with\s[\s\S]*\)\s*select|show|explain)\b/i.test(sql)) {
      report.damage.sqlWrites.push(sql.slice(0, 200));
      const o = output as { rowCount?: unknown; changes?: unknown; affectedRows?: unknown } | null;
      const n = [o?.rowCount, o?.changes, o?.affectedRows].find((x) => typeof x === 'number');
      if (typeof n === 'number') report.damage.rowsChanged += n;
    }
  } else if (type === 'http.request' && typeof params.url === 'string') {
    // A request that failed or timed out may still have reached the server.
    report.damage.requestsSent.push({
      method: typeof params.method === 'string' ? params.method.toUpperCase() : 'GET',
      url: params.url,
      status,
    });
  } else if (type.startsWith('payment.') && done && typeof params.amount === 'number') {
    const currency = typeof params.currency === 'string' ? params.currency.toUpperCase() : '?';
    const m = money.get(currency) ?? { amount: 0, payments: 0 };
    m.amount += params.amount;
    m.payments++;
    money.set(currency, m);
  }
}

function describeParams(params: Record<string, unknown> | undefined): string {
  if (!params) return '';
  for (const key of ['path', 'url', 'sql', 'command', 'to', 'model']) {
    const v = params[key];
    if (typeof v === 'string') return `\`${v.length > 80 ? `${v.slice(0, 80)}…` : v}\``;
  }
  return '';
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
