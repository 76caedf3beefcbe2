import type { ErrorHandler, NotFoundHandler } from 'hono';
import { ApprovalError } from '../approvals/approvals.js';
import { SubmissionError } from '../pipeline/submissions.js';
import { BadRequest, type Env, fail } from './http.js';

/** Any path no route matched: 404 `http.not-found`. */
export const notFound: NotFoundHandler<Env> = (c) =>
  fail(c, 'http.not-found', `no route ${c.req.method} ${c.req.path}; see docs/api.md`);

/**
 * What a route threw. A client's mistake or a refused vote or submission keeps its code (its
 * status from the table in `http-status.ts`); anything else is logged and answered with 500
 * `internal.error`, saying nothing was allowed.
 */
export const onError: ErrorHandler<Env> = (err, c) => {
  if (err instanceof BadRequest) return fail(c, 'validate.invalid', err.message);
  if (err instanceof SubmissionError || err instanceof ApprovalError) return fail(c, err.code, err.message);
  process.stderr.write(
    `${JSON.stringify({ level: 'error', msg: 'request failed', path: c.req.path, error: String(err.stack ?? err) })}\n`,
  );
  return fail(
    c,
    'internal.error',
    'the request failed inside Warden; nothing was allowed. See the server log.',
  );
};
