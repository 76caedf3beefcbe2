import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { WardenRefusal } from '../adapters/core.js';
import { ApprovalError } from '../approvals/approval-error.js';
import { CliError } from '../cli/common.js';
import { FsRefusal } from '../execute/fs-executor.js';
import { HttpExecutionError } from '../execute/http-executor.js';
import { BackendUnavailableError } from '../limits/backend.js';
import { LimitsConfigError } from '../limits/open-backend.js';
import { PinError } from '../mcp/pins.js';
import { SsrfError } from '../net/addresses.js';
import { SubmissionError } from '../pipeline/submissions.js';
import { PolicyError } from '../policy/policy-error.js';
import { SandboxError } from '../sandbox/sandbox.js';
import { StoreConflictError, StoreNotFoundError } from '../store/store.js';
import { isWardenError, WardenError } from './errors.js';

const DOTTED = /^[a-z]+(\.[a-z0-9-]+)+$/;

// One of each, built the way Warden builds them.
const CASES: Array<{ error: WardenError; name: string; code: string; message: string }> = [
  {
    error: new ApprovalError('approval.not-found', 'no approval request `apr_1`'),
    name: 'ApprovalError',
    code: 'approval.not-found',
    message: 'no approval request `apr_1`',
  },
  {
    error: new SubmissionError('action.not-found', 404, 'no action `act_1` was submitted'),
    name: 'SubmissionError',
    code: 'action.not-found',
    message: 'no action `act_1` was submitted',
  },
  {
    error: new SandboxError('sandbox.unavailable', 'bubblewrap is not usable here'),
    name: 'SandboxError',
    code: 'sandbox.unavailable',
    message: 'bubblewrap is not usable here',
  },
  {
    error: new PinError('mcp.pin-not-found', 'no tool `t` of server `s` has been seen'),
    name: 'PinError',
    code: 'mcp.pin-not-found',
    message: 'no tool `t` of server `s` has been seen',
  },
  {
    error: new HttpExecutionError('http.timeout', 'no complete answer from `example.com` in time'),
    name: 'HttpExecutionError',
    code: 'http.timeout',
    message: 'http.timeout: no complete answer from `example.com` in time',
  },
  {
    error: new FsRefusal('fs.not-a-file', '`/data/a` is a directory'),
    name: 'FsRefusal',
    code: 'fs.not-a-file',
    message: 'fs.not-a-file: `/data/a` is a directory',
  },
  {
    error: new SsrfError('10.0.0.1', '10.0.0.1', 'private 10.0.0.0/8'),
    name: 'SsrfError',
    code: 'http.ssrf-blocked',
    message:
      'address `10.0.0.1` is in a blocked range (private 10.0.0.0/8); requests to internal addresses are refused',
  },
  {
    error: new PolicyError([
      { file: 'warden.yaml', line: 3, column: 5, field: 'rules[0].effect', message: 'bad' },
    ]),
    name: 'PolicyError',
    code: 'policy.invalid',
    message: 'warden.yaml:3:5: rules[0].effect: bad',
  },
  {
    error: new StoreConflictError('action `a` already exists'),
    name: 'StoreConflictError',
    code: 'store.conflict',
    message: 'action `a` already exists',
  },
  {
    error: new StoreNotFoundError('action `a` does not exist: create it before updating it'),
    name: 'StoreNotFoundError',
    code: 'store.not-found',
    message: 'action `a` does not exist: create it before updating it',
  },
  {
    error: new BackendUnavailableError('redis at 127.0.0.1:6379 is end'),
    name: 'BackendUnavailableError',
    code: 'limits.unavailable',
    message: 'redis at 127.0.0.1:6379 is end',
  },
  {
    error: new LimitsConfigError(
      'limits.redis.urlEnv: environment variable `X` is not set; set it to the redis URL',
    ),
    name: 'LimitsConfigError',
    code: 'limits.invalid-config',
    message: 'limits.redis.urlEnv: environment variable `X` is not set; set it to the redis URL',
  },
  {
    error: new CliError('no policy: pass --policy FILE'),
    name: 'CliError',
    code: 'cli.failed',
    message: 'no policy: pass --policy FILE',
  },
  {
    error: new WardenRefusal({ code: 'fs.protected', stage: 'guards', message: 'path `/etc` is protected' }),
    name: 'WardenRefusal',
    code: 'action.refused',
    message: 'Refused by Warden (fs.protected): path `/etc` is protected',
  },
];

describe('WardenError', () => {
  for (const { error, name, code, message } of CASES) {
    it(`${name} is a WardenError with a stable dotted code and its own name and message`, () => {
      assert.ok(error instanceof WardenError);
      assert.ok(error instanceof Error);
      assert.ok(isWardenError(error));
      assert.equal(error.name, name);
      assert.equal(error.constructor.name, name);
      assert.equal(error.code, code);
      assert.match(error.code, DOTTED);
      assert.equal(error.message, message);
      assert.match(String(error), new RegExp(`^${name}: `));
    });
  }

  it('keeps the public fields callers read', () => {
    const submission = new SubmissionError('action.wrong-agent', 403, 'action `a` belongs to another agent');
    assert.equal(submission.httpStatus, 403);
    assert.equal(new CliError('boom').exitCode, 2);
    assert.equal(new CliError('boom', 3).exitCode, 3);
    const policy = new PolicyError([{ file: 'p.yaml', field: 'agents', message: 'expected a map' }]);
    assert.deepEqual(policy.issues, [{ file: 'p.yaml', field: 'agents', message: 'expected a map' }]);
    const ssrf = new SsrfError('internal.example', '10.0.0.1', 'private');
    assert.equal(ssrf.address, '10.0.0.1');
    assert.equal(ssrf.range, 'private');
    const sandbox = new SandboxError('sandbox.limit-unenforceable', 'cannot enforce memory');
    assert.deepEqual(sandbox.reason, {
      code: 'sandbox.limit-unenforceable',
      stage: 'execute',
      message: 'cannot enforce memory',
    });
    assert.equal(new WardenRefusal(undefined).message, 'Refused by Warden.');
  });

  it('names the stage of the errors that belong to one, and of no other', () => {
    assert.equal(new SandboxError('sandbox.error', 'x').stage, 'execute');
    assert.equal(new FsRefusal('fs.protected', 'x').stage, 'execute');
    assert.equal(new BackendUnavailableError('x').stage, 'limits');
    assert.equal(new ApprovalError('approval.expired', 'x').stage, 'approval');
    const refusal = new WardenRefusal({ code: 'limits.rate', stage: 'limits', message: 'x' });
    assert.equal(refusal.stage, 'limits');
    // No `stage` property at all: a `{ code, stage, message }` look-alike would pass for a Reason.
    assert.equal('stage' in new PolicyError([]), false);
    assert.equal('stage' in new WardenRefusal(undefined), false);
    assert.equal('hint' in new CliError('x'), false);
  });

  it('carries a hint and a cause only when given', () => {
    const cause = new Error('ECONNREFUSED');
    const error = new WardenError('limits.unavailable', 'redis did not answer', {
      stage: 'limits',
      hint: 'start redis or set `limits.backend: memory`',
      cause,
    });
    assert.equal(error.name, 'WardenError');
    assert.equal(error.hint, 'start redis or set `limits.backend: memory`');
    assert.equal(error.cause, cause);
    assert.equal('cause' in new WardenError('store.conflict', 'x'), false);
    assert.equal(new StoreConflictError('x', { cause }).cause, cause);
  });

  it('recognises an error from another copy of Warden, and nothing else', () => {
    // What a second copy's WardenError looks like from here: a different class, the same brand.
    class Foreign extends Error {}
    Object.defineProperty(Foreign.prototype, Symbol.for('warden.error'), { value: true });
    assert.equal(isWardenError(new Foreign('x')), true);
    assert.equal(isWardenError(new Error('x')), false);
    assert.equal(isWardenError({ code: 'store.conflict', message: 'x' }), false);
    assert.equal(isWardenError(undefined), false);
  });
});
