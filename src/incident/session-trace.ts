import type { Reason } from '../contract/decision.js';
import type { ObservationRecord } from '../contract/observation.js';
import { splitRecords } from '../contract/records.js';
import { recordedCostUsd, recordedEstimateUsd } from '../record/records.js';
import type { AuditRecord } from '../store/store.js';

/** One vote on a step's approval request. */
export interface TraceVote {
  by: string;
  vote: string;
  channel?: string;
  comment?: string;
  at: string;
}

/**
 * One step of a session, in the order the audit recorded it: an action (what the agent proposed,
 * what Warden decided, the approval, the result, the cost, anomalies on it) or an observation
 * (what the agent read). `records` keeps every record the step was built from, for a details view.
 */
export interface TraceStep {
  kind: 'action' | 'observation';
  seq: number;
  ts: string;
  actionId?: string;
  action?: { type: string; params: Record<string, unknown>; description?: string; user?: string };
  decision?: { effect: string; risk?: string; reasons: Reason[]; rule?: string; guard?: string };
  approval?: { id?: string; required?: number; roles?: string[]; votes: TraceVote[]; outcome?: string };
  result?: { status: string; durationMs?: number; output?: unknown; reason?: unknown };
  cost?: { estimateUsd?: number; usd?: number };
  anomalies: { code: string; message: string; severity?: string; response?: string }[];
  /**
   * An observation as issue 17 records it (`type: 'observation'`, `data: { session, source, trust,
   * labels?, findings? }`): read leniently, any field may be missing.
   */
  observation?: {
    source: string;
    trust: string;
    labels: string[];
    findings: { code: string; message: string }[];
  };
  /** Carrying a label or a detector finding (injection, secret…): content that taints the session. */
  tainting?: boolean;
  /** A decision whose reasons are taint reasons (`taint.*`): `source` names what tainted it, when said. */
  tainted?: { code: string; source?: string };
  records: { seq: number; ts: string; type: string; actor?: string; data: Record<string, unknown> }[];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const obj = (v: unknown): Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
const TAINT = /^(taint|content|injection|prompt-injection)\./;

/**
 * Groups a session's records (`AuditInsights.sessionRecords`) into steps, in seq order, with what
 * the session read (`warden.listObservations`, SPEC §2b) placed among them by time.
 */
export function buildSessionTrace(
  records: readonly AuditRecord[],
  observations: readonly ObservationRecord[] = [],
): TraceStep[] {
  const steps = auditSteps(records);
  if (observations.length === 0) return steps;
  const read = observations.map(observedStep);
  // Both lists are in order already: merge them by time, a read before an action of the same instant.
  const merged: TraceStep[] = [];
  let i = 0;
  for (const step of steps) {
    while (i < read.length && (read[i] as TraceStep).ts <= step.ts) merged.push(read[i++] as TraceStep);
    merged.push(step);
  }
  return merged.concat(read.slice(i));
}

/** An observation from the store as a step: its detector findings and labels (other than `untrusted`) taint. */
function observedStep(o: ObservationRecord): TraceStep {
  const labels = o.labels.filter((l) => l !== 'untrusted');
  const findings = o.findings.map((f) => ({ code: `${f.label}:${f.category}`, message: f.message }));
  return {
    kind: 'observation',
    seq: o.seq ?? 0,
    ts: o.at,
    observation: { source: o.source, trust: o.trust, labels, findings },
    tainting: labels.length > 0 || findings.length > 0,
    anomalies: [],
    records: [
      {
        seq: o.seq ?? 0,
        ts: o.at,
        type: 'observation',
        data: {
          source: o.source,
          trust: o.trust,
          digest: o.digest,
          length: o.length,
          labels: o.labels,
          findings: o.findings,
        },
      },
    ],
  };
}

function auditSteps(records: readonly AuditRecord[]): TraceStep[] {
  const steps: TraceStep[] = [];
  const byAction = new Map<string, TraceStep>();
  const estimates = new Map<string, number | undefined>();
  for (const r of splitRecords(records)) {
    const raw = { seq: r.seq, ts: r.ts, type: r.type, ...(r.actor ? { actor: r.actor } : {}), data: r.data };
    if (r.type === 'observation') {
      steps.push(observationStep(r, raw));
      continue;
    }
    const id = r.actionId;
    let step = id === undefined ? undefined : byAction.get(id);
    if (!step) {
      step = { kind: 'action', seq: r.seq, ts: r.ts, anomalies: [], records: [] };
      if (id !== undefined) {
        step.actionId = id;
        byAction.set(id, step);
      }
      steps.push(step);
    }
    step.records.push(raw);
    const d = r.data;
    if (r.type === 'decision') {
      const a = obj(d.action);
      const [description, user] = [str(a.description), str(a.user)];
      step.action = {
        type: str(a.type) ?? '(invalid)',
        params: obj(a.params),
        ...(description ? { description } : {}),
        ...(user ? { user } : {}),
      };
      const dec = obj(d.decision);
      const reasons = (Array.isArray(dec.reasons) ? dec.reasons : []).filter(
        (x): x is Reason => typeof obj(x).code === 'string',
      );
      const [risk, rule, guard] = [str(dec.risk), str(dec.rule), str(dec.guard)];
      step.decision = {
        effect: str(dec.effect) ?? '?',
        ...(risk ? { risk } : {}),
        reasons,
        ...(rule ? { rule } : {}),
        ...(guard ? { guard } : {}),
      };
      const asks = obj(dec.approvals);
      if (typeof asks.required === 'number')
        step.approval = { required: asks.required, roles: strings(asks.roles), votes: [] };
      const taint = reasons.find((x) => TAINT.test(x.code));
      if (taint) {
        const source = str((taint as { source?: unknown }).source);
        step.tainted = { code: taint.code, ...(source ? { source } : {}) };
      }
      const estimate = dec.effect === 'deny' ? undefined : recordedEstimateUsd(d);
      if (id !== undefined) estimates.set(id, estimate);
      if (estimate !== undefined) step.cost = { estimateUsd: estimate };
    } else if (r.type === 'result') {
      step.result = {
        status: str(d.status) ?? '?',
        ...(typeof d.durationMs === 'number' ? { durationMs: d.durationMs } : {}),
        ...(d.output !== undefined ? { output: d.output } : {}),
        ...(d.reason !== undefined || d.error !== undefined ? { reason: d.reason ?? d.error } : {}),
      };
      const usd = recordedCostUsd(d, id === undefined ? undefined : estimates.get(id));
      if (usd !== undefined) step.cost = { ...step.cost, usd };
    } else if (r.type.startsWith('approval.')) {
      step.approval ??= { votes: [] };
      const approval = step.approval;
      const approvalId = str(d.approvalId);
      if (approvalId) approval.id = approvalId;
      if (r.type === 'approval.request') {
        if (typeof d.required === 'number') approval.required = d.required;
        if (Array.isArray(d.roles)) approval.roles = strings(d.roles);
      } else if (r.type === 'approval.vote') {
        const [channel, comment, status] = [str(d.channel), str(d.comment), str(d.status)];
        approval.votes.push({
          by: r.actor ?? '?',
          vote: str(d.vote) ?? '?',
          ...(channel ? { channel } : {}),
          ...(comment ? { comment } : {}),
          at: r.ts,
        });
        if (status && status !== 'pending') approval.outcome = status;
      } else approval.outcome = r.type.slice('approval.'.length);
    } else if (r.type === 'anomaly') {
      const [severity, response] = [str(d.severity), str(d.response)];
      step.anomalies.push({
        code: str(d.code) ?? 'anomaly',
        message: str(d.message) ?? '',
        ...(severity ? { severity } : {}),
        ...(response ? { response } : {}),
      });
    }
  }
  return steps;
}

function observationStep(r: AuditRecord, raw: TraceStep['records'][number]): TraceStep {
  const d = r.data;
  const labels = strings(d.labels);
  const findings = (Array.isArray(d.findings) ? d.findings : [])
    .map(obj)
    .filter((f) => typeof f.code === 'string')
    .map((f) => ({ code: f.code as string, message: str(f.message) ?? '' }));
  const trust = str(d.trust) ?? 'untrusted';
  return {
    kind: 'observation',
    seq: r.seq,
    ts: r.ts,
    observation: { source: str(d.source) ?? '(unknown source)', trust, labels, findings },
    tainting: labels.length > 0 || findings.length > 0,
    anomalies: [],
    records: [raw],
  };
}
