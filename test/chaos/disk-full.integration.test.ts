import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '../helpers/cli.js';
import {
  api,
  chaosFiles,
  checkStore,
  kill9,
  newAcked,
  type Served,
  serve,
  verifyChain,
} from './chaos-helpers.js';

const tmp = tempDir('warden-chaos-disk-');
const mnt = join(tmp.dir, 'small');
const servers: Served[] = [];
let mounted = false;
after(async () => {
  for (const s of servers) await kill9(s.child);
  if (mounted) execFileSync('umount', [mnt]);
  tmp.remove();
});

const AGENT = 'chaos-agent-token-0123456789abcdef';
const SIZE = '4m';

/** Fills the file system holding `dir` until it refuses another byte; returns the filler's path. */
function fill(dir: string): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(16 * 1024, 1);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOSPC') throw error;
  }
  // Byte by byte to the last block, so no page SQLite asks for fits.
  try {
    for (;;) writeSync(fd, chunk.subarray(0, 512));
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOSPC') throw error;
  } finally {
    closeSync(fd);
  }
  return filler;
}

test('with the store’s disk full, decisions deny saying so and nothing acknowledged is lost; once space returns the server records again and the chain verifies', async () => {
  mkdirSync(mnt);
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${SIZE}`, 'tmpfs', mnt], { stdio: 'pipe' });
    mounted = true;
  } catch (error) {
    assert.fail(
      `the disk-full scenario needs a small tmpfs: run the tests as root (or with CAP_SYS_ADMIN) so \`mount -t tmpfs -o size=${SIZE} tmpfs DIR\` works; it failed: ${String((error as { stderr?: Buffer }).stderr ?? error)}`,
    );
  }
  const { policy, tokens } = chaosFiles(tmp.dir, [
    { name: 'bot', role: 'agent', agent: 'bot', token: AGENT },
  ]);
  const db = join(mnt, 'warden.db');
  const args = ['--policy', policy, '--db', db, '--tokens', tokens];
  let server = await serve(args);
  servers.push(server);
  const acked = newAcked();
  let n = 0;
  const submit = async () => {
    const body =
      n % 4 === 3
        ? { agent: 'bot', type: 'fs.delete', params: { path: `/data/${n++}` } }
        : { agent: 'bot', type: 'fs.read', params: { path: `/data/${n++}` } };
    const r = await api(server.url, 'POST', '/v1/actions', AGENT, body, AbortSignal.timeout(60_000));
    // A deny whose record could not be written says so (`record.unavailable`): it is the one
    // answer that does not claim to be in the audit.
    const unrecorded = (r.body.decision as { reasons?: { code: string }[] } | undefined)?.reasons?.some(
      (reason) => reason.code === 'record.unavailable',
    );
    if ((r.status === 200 || r.status === 202) && !unrecorded) {
      acked.decisions.set(String(r.body.id), { agent: 'bot', status: String(r.body.status) });
    }
    return r;
  };
  for (let i = 0; i < 20; i++) assert.ok((await submit()).status < 300);

  const filler = fill(mnt);
  const seen = new Map<string, number>();
  let denied: { code: string; message: string } | undefined;
  for (let i = 0; i < 300 && !denied; i++) {
    const r = await submit();
    const reason = (r.body.decision as { reasons?: { code: string; message: string }[] } | undefined)
      ?.reasons?.[0];
    const outcome =
      r.status === 200 && r.body.status === 'denied'
        ? `denied ${reason?.code}`
        : `${r.status} ${String(r.body.status ?? (r.body.error as { code?: string })?.code)}`;
    seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    assert.ok(
      r.status < 500 || (r.body.error as { code?: string })?.code === 'store.unavailable',
      JSON.stringify(r.body),
    );
    if (r.status === 200 && r.body.status === 'denied') denied = reason;
  }
  assert.ok(denied, `a full disk denied nothing: ${JSON.stringify([...seen])}`);
  assert.equal(denied.code, 'record.unavailable');
  assert.match(denied.message, /full/i, 'the reason says the disk is full');
  // More of everything while full: none may be a 500, and a result is refused saying why.
  for (let i = 0; i < 12; i++) {
    const r = await submit();
    const outcome = r.status === 200 ? `${String(r.body.status)}` : `${r.status}`;
    seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    assert.ok(
      r.status < 500 || (r.body.error as { code?: string })?.code === 'store.unavailable',
      JSON.stringify(r.body),
    );
  }
  const earlier = [...acked.decisions].find(([, d]) => d.status === 'allowed')?.[0];
  const result = await api(server.url, 'POST', `/v1/actions/${earlier}/result`, AGENT, {
    status: 'completed',
  });
  if (result.status === 200) acked.results.add(String(earlier));
  else
    assert.equal(
      (result.body.error as { code?: string })?.code,
      'store.unavailable',
      JSON.stringify(result.body),
    );
  seen.set(`result ${result.status}`, 1);
  assert.equal(server.child.exitCode, null, 'the server stays up while the disk is full');

  rmSync(filler);
  let recovered = false;
  for (let i = 0; i < 5 && !recovered; i++) {
    const r = await submit().catch(() => undefined);
    if (!r) {
      // It chose to exit: it must have said why, and must start cleanly on the same file.
      assert.match(server.output(), /full|space/i);
      server = await serve(args);
      servers.push(server);
      continue;
    }
    recovered = r.body.status === 'allowed' || r.body.status === 'pending';
  }
  assert.ok(
    recovered,
    `the server records decisions again once space returns:\n${server.output().slice(-2000)}`,
  );

  if (result.status !== 200) {
    const again = await api(server.url, 'POST', `/v1/actions/${earlier}/result`, AGENT, {
      status: 'completed',
    });
    assert.equal(
      again.status,
      200,
      `a result refused while the disk was full is accepted now: ${JSON.stringify(again.body)}`,
    );
    acked.results.add(String(earlier));
  }
  const check = checkStore(db, acked);
  assert.deepEqual(check.lost, []);
  assert.deepEqual(check.orphans, []);
  await kill9(server.child);
  assert.deepEqual(await verifyChain(db), [], 'the audit chain verifies');
  process.stdout.write(
    `chaos disk-full: tmpfs=${SIZE} outcomes=${[...seen].map(([k, v]) => `${k}×${v}`).join(',')} acked=${check.acked} found=${check.found} lost=0 orphans=0 verify=ok\n`,
  );
});
