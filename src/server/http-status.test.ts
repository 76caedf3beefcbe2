import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { slackSignature, verifySlackRequest } from '../approvals/channels/slack.js';
import { STATUS_OF, statusOf } from './http-status.js';

describe('statusOf', () => {
  test('gives each listed code its own status', () => {
    assert.equal(statusOf('validate.invalid'), 400);
    assert.equal(statusOf('auth.missing-token'), 401);
    assert.equal(statusOf('approval.self-approval'), 403);
    assert.equal(statusOf('approval.not-found'), 404);
    assert.equal(statusOf('approval.not-pending'), 409);
    assert.equal(statusOf('http.body-too-large'), 413);
    assert.equal(statusOf('limits.unavailable'), 503);
  });

  test('answers an unlisted refused vote, submission or pin with 409, as a conflict', () => {
    assert.equal(statusOf('approval.some-new-refusal'), 409);
    assert.equal(statusOf('action.some-new-refusal'), 409);
    assert.equal(statusOf('mcp.pin-some-new-refusal'), 409);
  });

  test('answers a code nobody mapped with 500, never a client error', () => {
    assert.equal(statusOf('nobody.mapped-this'), 500);
    assert.equal(statusOf('no-dot-at-all'), 500);
  });

  test('every failed Slack signature check is a 401', () => {
    const now = 1_700_000_000;
    const failures = [
      verifySlackRequest('s', { timestamp: undefined, signature: undefined }, '', now),
      verifySlackRequest('s', { timestamp: String(now - 3600), signature: undefined }, '', now),
      verifySlackRequest(
        's',
        { timestamp: String(now), signature: slackSignature('x', String(now), '') },
        '',
        now,
      ),
    ];
    for (const v of failures) {
      assert.equal(v.ok, false);
      if (!v.ok) assert.equal(STATUS_OF[v.code], 401, v.code);
    }
  });
});
