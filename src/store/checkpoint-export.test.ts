import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { after, test } from 'node:test';
import aws4 from 'aws4';
import { checkpointSigner, checkpointVerifier, generateCheckpointKeys } from '../audit/checkpoint.js';
import { verifyWebhook } from '../lib/webhook-signature.js';
import { CheckpointExports, s3Exporter, webhookExporter } from './checkpoint-export.js';
import { CHECKPOINT_RECORD, startCheckpoints, verifyWithCheckpoints } from './checkpoints.js';
import { MemoryStore } from './memory/memory-store.js';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

/** A local HTTP server answering `status(n)` to its n-th request (from 1), recording each. */
async function receiver(status: (n: number) => number = () => 200) {
  const received: Received[] = [];
  const waiting: (() => void)[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      res.statusCode = status(received.length);
      res.end();
      for (const wake of waiting.splice(0)) wake();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const count = async (n: number) => {
    while (received.length < n) await new Promise<void>((resolve) => waiting.push(resolve));
  };
  return { url, received, count };
}

const keys = generateCheckpointKeys();
const signer = checkpointSigner(keys.privateKey);

async function storeWithRecords(n: number) {
  const store = new MemoryStore();
  await store.audit.append(Array.from({ length: n }, (_, i) => ({ type: 'decision', data: { i } })));
  return store;
}

test('each checkpoint is POSTed to the checkpoint webhook with the one Warden webhook signature', async () => {
  const hook = await receiver();
  const store = await storeWithRecords(3);
  const exports = new CheckpointExports(
    [webhookExporter({ url: `${hook.url}/anchors`, secret: 's3cret' })],
    () => assert.fail('no export should fail'),
  );
  const stop = startCheckpoints(store.audit, signer, { everyMs: 10, onWritten: (line) => exports.add(line) });
  await hook.count(1);
  stop();
  exports.close();
  const [post] = hook.received;
  assert.equal(post?.method, 'POST');
  assert.equal(post?.url, '/anchors');
  const signature = String(post?.headers['x-warden-signature']);
  assert.match(signature, /^sha256=[0-9a-f]{64}$/);
  assert.equal(
    verifyWebhook('s3cret', String(post?.headers['x-warden-timestamp']), post?.body ?? '', signature),
    true,
  );
  const sent = JSON.parse(post?.body ?? '{}') as {
    event: string;
    record: number;
    checkpoint: { seq: number };
  };
  assert.equal(sent.event, 'audit.checkpoint');
  assert.equal(sent.checkpoint.seq, 3);
  assert.equal(sent.record, 4);
});

test('each checkpoint is PUT to object storage as <prefix>/<seq>.json with a valid SigV4 signature', async () => {
  const bucket = await receiver();
  const store = await storeWithRecords(5);
  const credentials = {
    accessKeyId: 'AKIDEXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  };
  const exports = new CheckpointExports(
    [
      s3Exporter({
        bucket: 'audit',
        prefix: 'prod/anchors',
        region: 'eu-west-1',
        endpoint: bucket.url,
        ...credentials,
      }),
    ],
    () => assert.fail('no export should fail'),
  );
  const stop = startCheckpoints(store.audit, signer, { everyMs: 10, onWritten: (line) => exports.add(line) });
  await bucket.count(1);
  stop();
  exports.close();
  const [put] = bucket.received;
  assert.equal(put?.method, 'PUT');
  assert.equal(put?.url, '/audit/prod/anchors/6.json');
  const headers = put?.headers ?? {};
  // Recomputed as the storage service would: the same request, signed with the same secret at the same time.
  const again = aws4.sign(
    {
      host: String(headers.host),
      method: 'PUT',
      path: put?.url,
      service: 's3',
      region: 'eu-west-1',
      body: put?.body,
      headers: {
        'content-type': String(headers['content-type']),
        'X-Amz-Date': String(headers['x-amz-date']),
      },
    },
    credentials,
  );
  assert.match(
    String(headers.authorization),
    /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/s3\/aws4_request/,
  );
  assert.equal(headers.authorization, again.headers?.Authorization);
  const line = JSON.parse(put?.body ?? '{}') as { record: number; checkpoint: unknown };
  assert.equal(line.record, 6);
  const verified = await verifyWithCheckpoints(store.audit, checkpointVerifier(keys.publicKey), [line]);
  assert.equal(verified.ok, true);
});

test('an export that fails is reported and retried, while checkpoints keep going into the audit', async () => {
  const flaky = await receiver((n) => (n === 1 ? 503 : 200));
  const store = await storeWithRecords(2);
  const failures: { name: string; error: string; attempt: number }[] = [];
  const exports = new CheckpointExports(
    [webhookExporter({ url: flaky.url, secret: 'k' })],
    (exporter, error, attempt) => failures.push({ name: exporter.name, error: String(error), attempt }),
  );
  const stop = startCheckpoints(store.audit, signer, { everyMs: 10, onWritten: (line) => exports.add(line) });
  await flaky.count(2);
  stop();
  exports.close();
  assert.equal(failures[0]?.attempt, 1);
  assert.match(failures[0]?.error ?? '', /HTTP 503/);
  const first = JSON.parse(flaky.received[0]?.body ?? '{}') as { record: number };
  const retried = JSON.parse(flaky.received[1]?.body ?? '{}') as { record: number };
  assert.equal(retried.record, first.record, 'the failed checkpoint is sent again, not skipped');
  const inChain = await store.audit.query({ type: CHECKPOINT_RECORD });
  assert.ok(
    inChain.some((r) => r.seq === first.record),
    'the checkpoint is in the audit whatever the export did',
  );
});
