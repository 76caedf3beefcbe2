import type { ErrorHandler, NotFoundHandler } from 'hono';
import { ApprovalError } from '../approvals/approvals.js';
import { SubmissionError } from '../pipeline/submissions.js';
import { BadRequest, type Env, fail } from './http.js';

/** Any path no route matched: 404 `http.not-found`. */
export const notFound: NotFoundHandler<Env> = (c) =>
  fail(c, 'http.not-found', `no route ${c.req.method} ${c.req.path}; see docs/api.md`);

/**
 * What a route threw. A client's mistake or a refused vote or submission keeps its code (its
 * status from the table in `http-status.ts`); a store that is locked by another process, full or
 * failing answers 503 `store.unavailable` saying which (the client may retry; the chaos suite
 * holds the store locked and fills its disk); anything else is logged and answered with 500
 * `internal.error`, saying nothing was allowed.
 */
export const onError: ErrorHandler<Env> = (err, c) => {
  if (err instanceof BadRequest) return fail(c, 'validate.invalid', err.message);
  if (err instanceof SubmissionError || err instanceof ApprovalError) return fail(c, err.code, err.message);
  const trouble = storeTrouble(err);
  if (trouble) {
    process.stderr.write(
      `${JSON.stringify({ level: 'error', msg: 'store unavailable', path: c.req.path, error: String(err) })}\n`,
    );
    return fail(c, 'store.unavailable', `${trouble}; nothing was changed, retry later`, {
      'retry-after': '5',
    });
  }
  process.stderr.write(
    `${JSON.stringify({ level: 'error', msg: 'request failed', path: c.req.path, error: String(err.stack ?? err) })}\n`,
  );
  return fail(
    c,
    'internal.error',
    'the request failed inside Warden; nothing was allowed. See the server log.',
  );
};

/**
 * What is wrong with the store when `error` (or its cause) is SQLite saying it cannot go on:
 * locked by another process, out of space, or failing to read or write the file.
 */
export function storeTrouble(error: unknown): string | undefined {
  for (let e = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    const text = `${typeof code === 'string' ? code : ''} ${e.message}`;
    if (/SQLITE_(BUSY|LOCKED)|database is locked/i.test(text)) {
      return 'the store is locked by another process (waited for its busy timeout)';
    }
    if (/SQLITE_FULL|database or disk is full|ENOSPC/i.test(text))
      return 'the disk holding the store is full';
    if (/SQLITE_(IOERR|READONLY|CANTOPEN|CORRUPT)/.test(text))
      return `the store cannot be written (${text.trim()})`;
  }
  return undefined;
}
