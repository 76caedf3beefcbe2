import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT, tempDir } from '../helpers/cli.js';
import {
  api,
  chaosFiles,
  checkStore,
  kill9,
  newAcked,
  type Served,
  serve,
  sleep,
  verifyChain,
} from './chaos-helpers.js';

const tmp = tempDir('warden-chaos-clock-');
const servers: Served[] = [];
after(async () => {
  for (const s of servers) await kill9(s.child);
  tmp.remove();
});

const AGENT = 'chaos-agent-token-0123456789abcdef';
const ALICE = 'chaos-alice-token-0123456789abcdef';
const VIEWER = 'chaos-viewer-token-0123456789abcdef';
const MIN = 60_000;
const HOUR = 60 * MIN;

test('when the wall clock jumps back and forward, rate windows, approval expiry, audit order and action ids stay right, and the chain verifies', async () => {
  const { policy, tokens } = chaosFiles(
    tmp.dir,
    [
      { name: 'bot', role: 'agent', agent: 'bot', token: AGENT },
      { name: 'alice', role: 'approver', token: ALICE },
      { name: 'vic', role: 'viewer', token: VIEWER },
    ],
    'limits:\n  rate:\n    - match: { type: fs.read }\n      windows: { 1m: 5 }\napprovals:\n  timeout: 10m\n',
  );
  const offsetFile = join(tmp.dir, 'clock-offset');
  const jump = async (ms: number) => {
    writeFileSync(offsetFile, String(ms));
    await sleep(200); // the hook re-reads the file every 20 ms
  };
  await jump(0);
  const hook = pathToFileURL(join(ROOT, 'test/fixtures/clock-offset.mjs')).href;
  const db = join(tmp.dir, 'warden.db');
  // The hook shifts the main thread, where decisions, limits and approvals take the time; the
  // audit writer thread (which stamps `ts`) keeps the real clock, as `--import` does not reach it.
  const server = await serve(
    ['--policy', policy, '--db', db, '--tokens', tokens],
    { WARDEN_TEST_CLOCK_OFFSET_FILE: offsetFile },
    ['--import', hook],
  );
  servers.push(server);
  const acked = newAcked();
  const ids: string[] = [];
  let n = 0;
  const submit = async (type: 'fs.read' | 'fs.delete') => {
    const r = await api(server.url, 'POST', '/v1/actions', AGENT, {
      agent: 'bot',
      type,
      params: { path: `/data/${n++}` },
    });
    assert.ok(r.status === 200 || r.status === 202, JSON.stringify(r.body));
    ids.push(String(r.body.id));
    acked.decisions.set(String(r.body.id), { agent: 'bot', status: String(r.body.status) });
    const reason = (r.body.decision as { reasons: { code: string }[] }).reasons[0]?.code;
    return { status: String(r.body.status), reason, approvalId: r.body.approvalId as string | undefined };
  };
  const vote = (id: string | undefined) => api(server.url, 'POST', `/v1/approvals/${id}/approve`, ALICE, {});

  // Rate: 5 reads a minute. Fill the window, then jump the clock back an hour: still full.
  for (let i = 0; i < 5; i++) assert.equal((await submit('fs.read')).status, 'allowed');
  assert.equal((await submit('fs.read')).reason, 'limits.rate');
  await jump(-HOUR);
  assert.equal(
    (await submit('fs.read')).reason,
    'limits.rate',
    'a clock set back does not reopen a full window',
  );
  // Forward past the window: open again (a clock set forward is taken as time passing).
  await jump(2 * MIN);
  assert.equal((await submit('fs.read')).status, 'allowed');

  // Approval expiry: a request made now expires when the clock passes its 10 minutes...
  const soon = await submit('fs.delete');
  assert.equal(soon.status, 'pending');
  await jump(13 * MIN);
  await sleep(1500); // the sweeper runs every second
  const late = await vote(soon.approvalId);
  assert.equal(late.status, 409, JSON.stringify(late.body));
  assert.match(String((late.body.error as { code?: string }).code), /^approval\.(expired|not-pending)$/);
  // ...and one made after a jump back is not taken as already expired.
  await jump(-HOUR);
  const fresh = await submit('fs.delete');
  assert.equal(fresh.status, 'pending');
  const approved = await vote(fresh.approvalId);
  assert.equal(approved.status, 200, JSON.stringify(approved.body));

  // Ids stay unique, and the audit keeps the order things happened in (its sequence), whatever
  // the clock said.
  assert.equal(new Set(ids).size, ids.length, 'every action id is new');
  const audit = await api(server.url, 'GET', '/v1/audit?limit=1000', VIEWER);
  const records = audit.body.records as { seq: number; ts: string; actionId?: string; type: string }[];
  const seqs = records.map((r) => r.seq);
  assert.deepEqual(
    seqs,
    [...seqs].sort((a, b) => a - b),
    'the audit is read back in the order it was written',
  );
  const request = await api(server.url, 'GET', `/v1/approvals/${fresh.approvalId}`, VIEWER);
  const createdAt = Date.parse(
    String((request.body.approval as { createdAt?: string } | undefined)?.createdAt),
  );
  assert.ok(
    createdAt < Date.now() - 50 * MIN,
    `the server ran on the jumped clock: ${JSON.stringify(request.body)}`,
  );
  const decided = records.filter((r) => r.type === 'decision').map((r) => r.actionId);
  assert.deepEqual(decided, ids, 'decisions are recorded in the order they were made');
  const check = checkStore(db, acked);
  assert.deepEqual(check.lost, []);
  assert.deepEqual(check.orphans, []);
  await kill9(server.child);
  assert.deepEqual(await verifyChain(db), [], 'the audit chain verifies');
  process.stdout.write(
    `chaos clock-jumps: jumps=4 (-1h, +2m, +13m, -1h) acked=${check.acked} found=${check.found} ids=${ids.length} unique lost=0 orphans=0 verify=ok\n`,
  );
});
