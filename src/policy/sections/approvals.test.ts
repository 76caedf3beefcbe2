import assert from 'node:assert/strict';
import { test } from 'node:test';
import { channelsFromPolicy } from '../../approvals/channels/from-policy.js';
import { parsePolicyText } from '../load.js';

test('a Slack user that is not a member id is a policy error naming file, line and field', () => {
  const text =
    'version: 1\napprovals:\n  channels:\n    slack:\n      webhookUrl: https://hooks.slack.com/services/T/B/X\n      users: { alice: alice }\n';
  assert.throws(
    () => parsePolicyText(text, 'warden.yaml'),
    (e: Error) =>
      /^warden\.yaml:6:\d+: approvals\.channels\.slack\.users\.alice: expected a Slack member id/m.test(
        e.message,
      ),
  );
});

test('Slack needs exactly one of webhookUrl and webhookUrlEnv', () => {
  const text = 'version: 1\napprovals:\n  channels:\n    slack: { signingSecretEnv: X_SECRET }\n';
  assert.throws(() => parsePolicyText(text, 'warden.yaml'), /exactly one of `webhookUrl` or `webhookUrlEnv`/);
});

test('a channel whose secret is not in the environment refuses to start, naming the variable', () => {
  delete process.env.WARDEN_TEST_UNSET_SECRET;
  const policy = parsePolicyText(
    'version: 1\napprovals:\n  channels:\n    webhooks:\n      - { url: "https://ops.example.com/hook", secretEnv: WARDEN_TEST_UNSET_SECRET }\n',
  );
  assert.throws(() => channelsFromPolicy(policy), /`WARDEN_TEST_UNSET_SECRET` is not set/);
  process.env.WARDEN_TEST_UNSET_SECRET = 'a-secret';
  assert.deepEqual(
    channelsFromPolicy(policy).map((c) => c.name),
    ['webhook:ops.example.com'],
  );
  delete process.env.WARDEN_TEST_UNSET_SECRET;
});

test('a policy without channels gets none, and the approvals defaults still apply', () => {
  const policy = parsePolicyText('version: 1\n');
  assert.deepEqual(channelsFromPolicy(policy), []);
  assert.equal(policy.approvalTimeoutMs, 15 * 60_000);
  assert.equal(policy.config.approvals.financialRequired, 2);
});
