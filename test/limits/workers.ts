import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, waitForLine } from '../helpers/cli.js';

const WORKER = join(ROOT, 'test/fixtures/limits-worker.ts');

export interface WorkerResult {
  admitted: number;
  denied: Record<string, number>;
}

/**
 * Starts `n` worker processes, each with its own Warden over the same backend, waits until all
 * are ready, releases them at once and collects what each admitted.
 */
export async function runWorkers(n: number, job: Record<string, unknown>): Promise<WorkerResult[]> {
  const children = Array.from({ length: n }, () =>
    spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(job)], { cwd: ROOT, stdio: 'pipe' }),
  );
  try {
    await Promise.all(children.map((c) => waitForLine(c, /^ready$/m, 30_000)));
    const results = children.map((c) => waitForLine(c, /^(\{.*\})$/m, 60_000));
    for (const c of children) c.stdin.write('go\n');
    return (await Promise.all(results)).map((m) => JSON.parse(m[1] as string) as WorkerResult);
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  }
}

/** A key prefix no other run (or parallel helper) shares. */
export function uniquePrefix(label: string): string {
  return `wtest-${label}-${process.pid}-${Date.now().toString(36)}`;
}
