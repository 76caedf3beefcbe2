import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli, tempDir } from '../helpers/cli.js';
import {
  type Acked,
  api,
  chaosFiles,
  checkStore,
  kill9,
  newAcked,
  ROUNDS,
  SEED,
  type Served,
  seeded,
  serve,
  sleep,
} from './chaos-helpers.js';

const tmp = tempDir('warden-chaos-');
const servers: Served[] = [];
after(async () => {
  for (const s of servers) await kill9(s.child);
  tmp.remove();
});

const AGENT = 'chaos-agent-token-0123456789abcdef';
const VIEWER = 'chaos-viewer-token-0123456789abcdef';
const CLIENTS = 16;

/** One client's request: allowed and executed (then reported), denied two ways, or asked. */
function nextAction(random: () => number, n: string): { body: Record<string, unknown>; execute: boolean } {
  const pick = random();
  if (pick < 0.4)
    return { body: { agent: 'bot', type: 'fs.read', params: { path: `/data/${n}` } }, execute: true };
  if (pick < 0.6)
    return { body: { agent: 'bot', type: 'fs.read', params: { path: '/etc/shadow' } }, execute: false };
  if (pick < 0.7)
    return { body: { agent: 'bot', type: 'fs.write', params: { path: `/data/${n}` } }, execute: false };
  if (pick < 0.85)
    return { body: { agent: 'bot', type: 'fs.delete', params: { path: `/data/${n}` } }, execute: false };
  // A client-chosen id: the store must keep it under this agent, once.
  return {
    body: { id: `act_client_${n}`, agent: 'bot', type: 'fs.read', params: { path: `/data/${n}` } },
    execute: true,
  };
}

/** Sends actions until the server stops answering; records every 2xx it saw. */
async function client(url: string, random: () => number, tag: string, acked: Acked): Promise<void> {
  for (let i = 0; ; i++) {
    const { body, execute } = nextAction(random, `${tag}-${i}`);
    try {
      const r = await api(url, 'POST', '/v1/actions', AGENT, body);
      if (r.status >= 500)
        throw new Error(`POST /v1/actions answered ${r.status}: ${JSON.stringify(r.body)}`);
      if (r.status !== 200 && r.status !== 202) continue;
      const id = String(r.body.id);
      acked.decisions.set(id, { agent: 'bot', status: String(r.body.status) });
      if (!execute || r.body.status !== 'allowed') continue;
      const done = await api(url, 'POST', `/v1/actions/${id}/result`, AGENT, {
        status: 'completed',
        output: 'ok',
      });
      if (done.status === 200) acked.results.add(id);
    } catch (error) {
      if (error instanceof Error && /answered 5\d\d/.test(error.message)) throw error;
      return; // the server is gone
    }
  }
}

test('kill -9 of warden serve under load loses no acknowledged decision, leaves no orphaned request, and the chain verifies', async () => {
  const { policy, tokens } = chaosFiles(
    tmp.dir,
    [
      { name: 'bot', role: 'agent', agent: 'bot', token: AGENT },
      { name: 'vic', role: 'viewer', token: VIEWER },
    ],
    'approvals:\n  timeout: 10m\n',
  );
  const db = join(tmp.dir, 'warden.db');
  const args = ['--policy', policy, '--db', db, '--tokens', tokens];
  const random = seeded(SEED);
  const acked = newAcked();
  let server = await serve(args);
  servers.push(server);
  let check = checkStore(db, acked);
  for (let round = 0; round < ROUNDS; round++) {
    const load = Array.from({ length: CLIENTS }, (_, c) =>
      client(server.url, seeded(SEED * 1000 + round * 100 + c), `r${round}c${c}`, acked),
    );
    // Under load first (some answers seen, or 20 s passed), then at a random point after it.
    const before = acked.decisions.size;
    for (let waited = 0; acked.decisions.size < before + 40 && waited < 20_000; waited += 50) await sleep(50);
    await sleep(Math.floor(random() * 1000));
    await kill9(server.child);
    await Promise.all(load);
    server = await serve(args);
    servers.push(server);
    check = checkStore(db, acked);
    assert.deepEqual(check.lost, [], `round ${round} (seed ${SEED}): acknowledged but not in the store`);
    assert.deepEqual(check.orphans, [], `round ${round} (seed ${SEED}): orphaned approval requests`);
    const verify = await api(server.url, 'GET', '/v1/audit/verify', VIEWER);
    assert.equal(verify.body.ok, true, `round ${round}: ${JSON.stringify(verify.body)}`);
  }
  const recovered = servers.reduce(
    (sum, s) => sum + Number(/recovered (\d+) orphaned/.exec(s.output())?.[1] ?? 0),
    0,
  );
  await kill9(server.child);
  const verified = await runCli(['audit', 'verify', '--db', db]);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.ok(acked.decisions.size >= ROUNDS, `the clients got answers (${acked.decisions.size})`);
  process.stdout.write(
    `chaos serve-kill: rounds=${ROUNDS} acked=${check.acked} found=${check.found} lost=${check.lost.length} orphans=${check.orphans.length} recovered=${recovered} verify=ok seed=${SEED}\n`,
  );
});
