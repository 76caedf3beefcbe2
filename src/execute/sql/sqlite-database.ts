import { type ChildProcess, fork } from 'node:child_process';
import { resolve } from 'node:path';
import type { QueryOptions, SqlResult } from './pg-database.js';

interface Pending {
  resolve: (result: SqlResult) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/**
 * A SQLite file for Warden's executor. Queries run in a child process (`sqlite-worker.ts`) so
 * that the statement timeout is real: better-sqlite3 cannot interrupt a running statement, so
 * on timeout the child is killed and a fresh one serves the next query. Reads open the file
 * read-only and also refuse a statement SQLite itself says is not read-only.
 */
export class SqliteDatabase {
  private child: { process: ChildProcess; ready: Promise<void> } | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  readonly file: string;

  constructor(file: string) {
    this.file = resolve(file);
  }

  read(sql: string, params: readonly unknown[], options: QueryOptions): Promise<SqlResult> {
    return this.send('read', sql, params, options);
  }

  write(sql: string, params: readonly unknown[], options: QueryOptions): Promise<SqlResult> {
    return this.send('write', sql, params, options);
  }

  private async send(
    mode: 'read' | 'write',
    sql: string,
    params: readonly unknown[],
    options: QueryOptions,
  ): Promise<SqlResult> {
    const started = this.start();
    // The timeout covers the query, not the worker's start-up.
    await started.ready;
    const child = started.process;
    child.ref();
    child.channel?.ref();
    const id = this.nextId++;
    if (options.signal?.aborted) throw new Error('the query was aborted before it started');
    return new Promise<SqlResult>((resolvePromise, reject) => {
      const timer = setTimeout(() => {
        this.stop(new Error(`the query did not finish within ${options.timeoutMs} ms and was stopped`));
      }, options.timeoutMs);
      // A kill or an abort stops the worker like a timeout does.
      const onAbort = () => this.stop(new Error('the query was aborted'));
      options.signal?.addEventListener('abort', onAbort, { once: true });
      const done = () => options.signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (r) => {
          done();
          resolvePromise(r);
        },
        reject: (e) => {
          done();
          reject(e);
        },
        timer,
      });
      child.send({ id, file: this.file, mode, sql, params: [...params], maxRows: options.maxRows });
    });
  }

  private start(): { process: ChildProcess; ready: Promise<void> } {
    if (this.child) return this.child;
    const fromSource = import.meta.url.endsWith('.ts');
    const entry = new URL(`./sqlite-worker${fromSource ? '.ts' : '.js'}`, import.meta.url);
    const child = fork(entry, [], {
      execArgv: fromSource ? ['--import', 'tsx'] : [],
      serialization: 'advanced',
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let onReady: () => void = () => undefined;
    let onFailed: (error: Error) => void = () => undefined;
    const ready = new Promise<void>((res, rej) => {
      onReady = res;
      onFailed = rej;
    });
    child.on(
      'message',
      (m: { ready?: true; id: number; ok: boolean; result?: SqlResult; error?: string }) => {
        if (m.ready) return onReady();
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        clearTimeout(p.timer);
        if (m.ok) p.resolve(m.result as SqlResult);
        else p.reject(new Error(m.error));
        if (this.pending.size === 0) {
          // Idle: an unclosed database must not keep the process alive.
          child.unref();
          child.channel?.unref();
        }
      },
    );
    child.on('exit', () => {
      if (this.child?.process === child) this.child = undefined;
      onFailed(new Error('the SQLite worker exited before it was ready'));
      this.failAll(new Error('the SQLite worker exited'));
    });
    child.on('error', (error) => onFailed(error));
    this.child = { process: child, ready };
    return this.child;
  }

  private stop(reason: Error): void {
    const child = this.child;
    this.child = undefined;
    this.failAll(reason);
    child?.process.kill('SIGKILL');
  }

  private failAll(reason: Error): void {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(reason);
      this.pending.delete(id);
    }
  }

  async close(): Promise<void> {
    const child = this.child?.process;
    if (!child) return;
    this.child = undefined;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGTERM');
    await exited;
  }
}
