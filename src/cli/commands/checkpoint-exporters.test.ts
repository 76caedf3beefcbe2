import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkpointExporters } from './checkpoint-exporters.js';

const base = { checkpointWebhookSecretEnv: 'WARDEN_CHECKPOINT_WEBHOOK_SECRET' };

test('checkpoint export flags name their exporters, and a missing secret or credential stops the start with what to set', () => {
  assert.deepEqual(checkpointExporters(base, {}), []);
  assert.throws(
    () => checkpointExporters({ ...base, checkpointWebhook: 'https://anchors.example.com/in' }, {}),
    /\$WARDEN_CHECKPOINT_WEBHOOK_SECRET/,
  );
  assert.throws(
    () => checkpointExporters({ ...base, checkpointS3: 's3://audit/prod' }, {}),
    /\$AWS_ACCESS_KEY_ID/,
  );
  assert.throws(
    () =>
      checkpointExporters(
        { ...base, checkpointS3: 'https://audit' },
        { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' },
      ),
    /expected s3:\/\/BUCKET/,
  );
  const both = checkpointExporters(
    {
      ...base,
      checkpointWebhook: 'https://anchors.example.com/in',
      checkpointS3: 's3://audit/prod/anchors/',
    },
    { WARDEN_CHECKPOINT_WEBHOOK_SECRET: 'k', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' },
  );
  assert.deepEqual(
    both.map((e) => e.name),
    ['webhook https://anchors.example.com', 's3 audit'],
  );
});
