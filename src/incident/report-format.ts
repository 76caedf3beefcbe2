// The format of `warden incident report` (its JSON output): built by report.ts, rendered by render.ts.

export interface TimelineEntry {
  seq: number;
  ts: string;
  type: string;
  actionId?: string;
  actionType?: string;
  effect?: string;
  status?: string;
  code?: string;
  summary: string;
}

export interface Finding {
  seq: number;
  ts: string;
  actionId?: string;
  actionType?: string;
  code: string;
  message: string;
}

/** What `warden incident report` computes from the audit log (its JSON format). */
export interface IncidentReport {
  format: 'warden.incident-report/1';
  agent: string;
  since: string;
  until: string;
  generatedAt: string;
  records: number;
  actions: {
    decided: number;
    allowed: number;
    asked: number;
    denied: number;
    completed: number;
    failed: number;
  };
  cost: { totalUsd: number; byType: Record<string, number> };
  damage: {
    filesWritten: string[];
    filesDeleted: string[];
    rowsChanged: number;
    sqlWrites: string[];
    requestsSent: { method: string; url: string; status: string }[];
    moneyMoved: { currency: string; amount: number; payments: number }[];
  };
  denials: Finding[];
  anomalies: (Finding & { severity?: string; response?: string; details?: Record<string, unknown> })[];
  interventions: { seq: number; ts: string; type: string; actor?: string; detail: string }[];
  rootCause: {
    firstAnomaly?: Finding;
    firstDenial?: Finding;
    /** The earlier of the two: where to start reading. */
    firstSign?: Finding;
    /** The last outside content the agent took in before the first sign, if any was recorded. */
    untrustedInput?: Finding;
  };
  timeline: TimelineEntry[];
}

/** A report with nothing in it yet: the shape `incidentReport` fills (and tests start from). */
export function emptyReport(agent: string, since: Date, until: Date, records = 0): IncidentReport {
  return {
    format: 'warden.incident-report/1',
    agent,
    since: since.toISOString(),
    until: until.toISOString(),
    generatedAt: new Date().toISOString(),
    records,
    actions: { decided: 0, allowed: 0, asked: 0, denied: 0, completed: 0, failed: 0 },
    cost: { totalUsd: 0, byType: {} },
    damage: {
      filesWritten: [],
      filesDeleted: [],
      rowsChanged: 0,
      sqlWrites: [],
      requestsSent: [],
      moneyMoved: [],
    },
    denials: [],
    anomalies: [],
    interventions: [],
    rootCause: {},
    timeline: [],
  };
}
