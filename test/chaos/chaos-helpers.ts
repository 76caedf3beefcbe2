import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { spawnCli, waitForLine } from '../helpers/cli.js';

/**
 * Shared parts of the chaos suite: a seeded random source, real `warden serve` processes, and
 * the checks every scenario ends with. `WARDEN_CHAOS_ROUNDS` and `WARDEN_CHAOS_SEED` make a
 * longer or different run; the defaults keep `npm test` short and repeatable.
 */
export const ROUNDS = positiveEnv('WARDEN_CHAOS_ROUNDS', 3);
export const SEED = positiveEnv('WARDEN_CHAOS_SEED', 20);

function positiveEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} \`${raw}\`: expected a whole number above 0`);
  return n;
}

/** mulberry32: a small seeded generator, so a failing run is replayed with its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Served {
  child: ChildProcessWithoutNullStreams;
  url: string;
  /** Everything it printed so far (stdout and stderr). */
  output: () => string;
}

/** Starts `warden serve ARGS… --port 0` from source and waits until it listens. */
export async function serve(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  nodeArgs: string[] = [],
): Promise<Served> {
  const child = spawnCli(['serve', '--port', '0', ...args], { env, nodeArgs });
  let output = '';
  child.stdout.on('data', (d: Buffer) => {
    output += d;
  });
  child.stderr.on('data', (d: Buffer) => {
    output += d;
  });
  const [, url] = await waitForLine(child, /listening on (http:\/\/\S+)/, 120_000);
  return { child, url: url as string, output: () => output };
}

/** SIGKILL, and wait until the process is gone. */
export async function kill9(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await gone;
}

export async function api(
  url: string,
  method: string,
  path: string,
  token: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    ...(signal ? { signal } : {}),
  });
  const text = await r.text();
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { raw: text };
  }
  return { status: r.status, body: parsed };
}

/** What a client saw acknowledged: the decision (by action id) and, for some, its result. */
export interface Acked {
  decisions: Map<string, { agent: string; status: string }>;
  results: Set<string>;
}

export function newAcked(): Acked {
  return { decisions: new Map(), results: new Set() };
}

/** What the store holds of what was acknowledged, and the pending requests that can never run. */
export interface StoreCheck {
  acked: number;
  found: number;
  lost: string[];
  orphans: string[];
}

/**
 * Reads the store file (beside a live server: WAL lets a reader in) and checks that every
 * acknowledged decision has its decision record, every acknowledged result its result record,
 * every acknowledged `pending` its request, and that every pending request has its action row
 * (pointing back to it), its decision record and its `approval.request` record.
 */
export function checkStore(file: string, acked: Acked): StoreCheck {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const ids = (type: string) =>
      new Set(
        db
          .prepare('SELECT agent, action_id FROM audit WHERE type = ? AND action_id IS NOT NULL')
          .raw()
          .all(type) as [string, string][],
      );
    const key = (agent: string, id: string) => `${agent}\u0000${id}`;
    const asKeys = (rows: Set<[string, string]>) => new Set([...rows].map(([a, i]) => key(a, i)));
    const decisions = asKeys(ids('decision'));
    const results = asKeys(ids('result'));
    const requests = asKeys(ids('approval.request'));
    const approvals = new Map(
      (db.prepare('SELECT record FROM approvals').pluck().all() as string[]).map((json) => {
        const r = JSON.parse(json) as { id: string; actionId: string; agent: string; status: string };
        return [key(r.agent, r.actionId), r];
      }),
    );
    const actionOf = db.prepare('SELECT record FROM actions WHERE agent = ? AND id = ?').pluck();
    const lost: string[] = [];
    let found = 0;
    for (const [id, { agent, status }] of acked.decisions) {
      const k = key(agent, id);
      let ok = decisions.has(k);
      if (status === 'pending') ok &&= approvals.has(k) && actionOf.get(agent, id) !== undefined;
      if (ok) found++;
      else lost.push(`${status} ${id}`);
    }
    for (const id of acked.results) {
      const [agent] = [...acked.decisions].filter(([i]) => i === id).map(([, d]) => d.agent);
      if (!results.has(key(agent ?? '', id))) lost.push(`result ${id}`);
    }
    const orphans: string[] = [];
    for (const [k, r] of approvals) {
      if (r.status !== 'pending') continue;
      const row = actionOf.get(r.agent, r.actionId) as string | undefined;
      const pointsBack =
        row !== undefined && (JSON.parse(row) as { approvalId?: string }).approvalId === r.id;
      if (!pointsBack) orphans.push(`${r.id}: no action row`);
      else if (!decisions.has(k)) orphans.push(`${r.id}: no decision record`);
      else if (!requests.has(k)) orphans.push(`${r.id}: no approval.request record`);
    }
    return {
      acked: acked.decisions.size + acked.results.size,
      found: found + acked.results.size - lost.filter((l) => l.startsWith('result ')).length,
      lost,
      orphans,
    };
  } finally {
    db.close();
  }
}

/**
 * The hash chain of the store at `file`, verified in this process (what `warden audit verify`
 * does, without starting another process); the first problem found, none when it holds.
 */
export async function verifyChain(file: string): Promise<string[]> {
  const store = await openSqliteStore(file);
  try {
    const result = await store.audit.verify();
    return result.ok
      ? []
      : [`${result.firstBad?.seq}: ${result.firstBad?.message ?? 'the chain does not verify'}`];
  } finally {
    await store.close();
  }
}

/** A bearer token the scenario's server knows. */
export interface ChaosToken {
  name: string;
  role: 'agent' | 'approver' | 'viewer' | 'admin';
  agent?: string;
  token: string;
}

/**
 * Writes the policy every scenario serves (agent `bot` may read and delete under `/data`, then
 * `more` YAML sections) and a tokens file, in `dir`; returns their paths.
 */
export function chaosFiles(dir: string, tokens: ChaosToken[], more = ''): { policy: string; tokens: string } {
  const policy = join(dir, 'warden.yaml');
  writeFileSync(
    policy,
    `agents:\n  bot:\n    allow: [fs.read, fs.delete]\n    resources: { paths: ["/data/**"] }\n${more}`,
  );
  const file = join(dir, 'tokens.json');
  writeFileSync(file, JSON.stringify({ tokens }));
  return { policy, tokens: file };
}
