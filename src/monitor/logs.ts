import { mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { type DestinationStream, type Logger, pino } from 'pino';
import type { DecisionEvent, ResultEvent } from '../contract/observer.js';
import type { MonitoringConfig } from '../policy/sections/monitor.js';
import type { AuditRecord } from '../store/store.js';
import { REDACT_PATHS, REDACTED, redact } from './redact.js';

/** Params strings are cut to this many characters in log lines (the audit log keeps them whole). */
const PARAM_CHARS = 256;

export interface DecisionLogs {
  decision(event: DecisionEvent): void;
  result(event: ResultEvent): void;
  /** Audit records that are not pipeline decisions: kills, overrides, anomalies, votes, agent-reported results. */
  event(record: AuditRecord): void;
  close(): Promise<void>;
}

/**
 * One JSON line per decision and per result (pino). Lines are written through an asynchronous
 * destination (sonic-boom, buffered), so logging costs the pipeline a serialisation, not a write.
 * Secrets are removed twice: pino `redact` paths for known fields, and {@link redact} over the
 * whole params for secret-looking values and names.
 */
export function createDecisionLogs(
  config: MonitoringConfig['logs'],
  destination?: DestinationStream,
): DecisionLogs {
  const stream =
    destination ??
    pino.destination({ dest: openDestination(config.destination), sync: false, minLength: 4096 });
  // An unwritable destination must not crash the process: say so once on stderr and carry on.
  let reported = false;
  (stream as unknown as NodeJS.EventEmitter).on?.('error', (error: unknown) => {
    if (reported) return;
    reported = true;
    process.stderr.write(
      `${JSON.stringify({ level: 'error', msg: `monitoring.logs.destination \`${config.destination}\` cannot be written; decision logs are lost until it can`, error: String(error) })}\n`,
    );
  });
  const logger: Logger = pino(
    {
      level: config.level,
      base: { service: 'warden' },
      redact: { paths: [...REDACT_PATHS, ...config.redact], censor: REDACTED },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
  );
  return {
    decision(e) {
      if (!logger.isLevelEnabled('info')) return;
      const a = e.action;
      const input = e.input as { agent?: unknown; type?: unknown } | null;
      const stages: Record<string, number> = {};
      for (const s of e.stages) stages[s.stage] = round(s.end - s.start);
      logger.info(
        {
          event: 'decision',
          mode: e.mode,
          actionId: e.decision.id,
          agent: a?.agent ?? (typeof input?.agent === 'string' ? input.agent : undefined),
          user: a?.user,
          session: a?.session,
          action: a
            ? { type: a.type, params: redact(a.params, PARAM_CHARS), ...(a.cost ? { cost: a.cost } : {}) }
            : { invalid: true, type: typeof input?.type === 'string' ? input.type : undefined },
          effect: e.decision.effect,
          risk: e.decision.risk,
          rule: e.decision.rule,
          reasons: e.decision.reasons,
          timings: { totalMs: round(e.end - e.start), stages },
        },
        'decision',
      );
    },
    result(e) {
      if (!logger.isLevelEnabled('info')) return;
      const a = e.action;
      logger.info(
        {
          event: 'result',
          actionId: a.id,
          agent: a.agent,
          user: a.user,
          session: a.session,
          action: { type: a.type },
          effect: e.decision.effect,
          status: e.status,
          reason: e.reason,
          cost: a.cost,
          timings: {
            totalMs: round(e.end - e.decided.start),
            approvalMs: round(e.approvalEnd - e.decided.end),
            ...(e.executeMs === undefined ? {} : { executeMs: round(e.executeMs) }),
          },
        },
        'result',
      );
    },
    event(record) {
      const level = record.type === 'anomaly' || record.type === 'kill' ? 'warn' : 'info';
      if (!logger.isLevelEnabled(level)) return;
      logger[level](
        {
          event: record.type,
          seq: record.seq,
          agent: record.agent,
          actionId: record.actionId,
          actor: record.actor,
          data: redact(record.data, PARAM_CHARS),
        },
        record.type,
      );
    },
    close: () =>
      new Promise<void>((resolve) => {
        logger.flush(() => {
          const s = stream as DestinationStream & { end?: () => void; fd?: number };
          // Never close the process's own stdout/stderr (sonic-boom closes the file's fd on end).
          if (s.fd !== 1 && s.fd !== 2 && !destination) s.end?.();
          resolve();
        });
      }),
  };
}

/** The file descriptor to log to; a file is opened (and its directory made) now, so a bad path fails at start. */
function openDestination(destination: string): number {
  if (destination === 'stdout') return 1;
  if (destination === 'stderr') return 2;
  try {
    mkdirSync(dirname(destination), { recursive: true });
    return openSync(destination, 'a', 0o600);
  } catch (error) {
    throw new Error(
      `monitoring.logs.destination: cannot open \`${destination}\` for appending (${(error as NodeJS.ErrnoException).code ?? String(error)}); use stdout, stderr or a writable file`,
    );
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
