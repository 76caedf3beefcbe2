import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { storeTrouble } from './error-handler.js';

test('a store locked by another connection is named as locked, with no stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-trouble-'));
  try {
    const file = join(dir, 'w.db');
    const holder = new Database(file);
    holder.exec('CREATE TABLE t (x)');
    holder.exec('BEGIN EXCLUSIVE');
    const writer = new Database(file, { timeout: 1 });
    let thrown: unknown;
    try {
      writer.exec('INSERT INTO t VALUES (1)');
    } catch (error) {
      thrown = error;
    }
    holder.exec('COMMIT');
    holder.close();
    writer.close();
    assert.match(storeTrouble(thrown) ?? '', /locked by another process/);
    // Wrapped as the audit log wraps its writer's failure.
    assert.match(storeTrouble(new Error('audit append failed', { cause: thrown })) ?? '', /locked/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a full disk and an unwritable file are told apart; any other error is not a store problem', () => {
  assert.match(
    storeTrouble(Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })) ?? '',
    /full/,
  );
  assert.match(
    storeTrouble(Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR_WRITE' })) ?? '',
    /cannot be written/,
  );
  assert.equal(storeTrouble(new TypeError('x is undefined')), undefined);
  assert.equal(storeTrouble('a string'), undefined);
});
