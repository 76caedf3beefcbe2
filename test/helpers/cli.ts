import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;
const MAIN = join(ROOT, 'src/cli/main.ts');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `warden ARGS…` from source, as a user would, and collects its output. */
export function runCli(
  args: string[],
  options: { input?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawnCli(args, options);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** `nodeArgs` go to node before the CLI (e.g. `--import` a test hook; worker threads inherit them). */
export function spawnCli(
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; nodeArgs?: string[] } = {},
): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [...(options.nodeArgs ?? []), '--import', 'tsx', MAIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: { ...process.env, ...options.env },
    stdio: 'pipe',
  });
}

/** Waits until the child prints a line matching `pattern`; rejects on exit or after `ms`. */
export function waitForLine(
  child: ChildProcessWithoutNullStreams,
  pattern: RegExp,
  ms = 15_000,
): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(
      () => done(new Error(`timed out waiting for ${pattern}; output so far:\n${buffer}`)),
      ms,
    );
    const onData = (d: Buffer) => {
      buffer += d;
      const m = buffer.match(pattern);
      if (m) done(undefined, m);
    };
    const onExit = (code: number | null) =>
      done(new Error(`process exited (${code}) before printing ${pattern}:\n${buffer}`));
    function done(error?: Error, m?: RegExpMatchArray) {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.stderr.off('data', onData);
      child.off('exit', onExit);
      if (error) reject(error);
      else resolve(m as RegExpMatchArray);
    }
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', onExit);
  });
}

/** A temporary directory removed by the returned function. */
export function tempDir(prefix = 'warden-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
