import type { LimitFigures, Reason } from '../contract/decision.js';
import type { LimitsBackend } from './backend.js';

/** Fail closed: the backend could not answer in time, so the limited action is denied. */
export function unavailableReason(backend: LimitsBackend, limit: string, error: unknown): Reason {
  const detail = error instanceof Error ? error.message : String(error);
  return {
    code: 'limits.unavailable',
    stage: 'limits',
    message: `limit \`${limit}\` cannot be checked: the ${backend.kind} limits backend did not answer (${detail}); denied because Warden fails closed. It reconnects by itself; retry shortly`,
  };
}

export function limitReason(
  code: string,
  message: string,
  figures: LimitFigures,
  retryAfterMs?: number,
): Reason {
  return {
    code,
    stage: 'limits',
    message,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    limit: figures,
  };
}

/** `42 s`, `3 min`, `250 ms`: how long to wait, in words. */
export function waitWords(ms: number): string {
  if (ms < 1000) return `${Math.max(1, Math.ceil(ms))} ms`;
  if (ms < 120_000) return `${Math.ceil(ms / 1000)} s`;
  if (ms < 7_200_000) return `${Math.ceil(ms / 60_000)} min`;
  return `${Math.ceil(ms / 3_600_000)} h`;
}
