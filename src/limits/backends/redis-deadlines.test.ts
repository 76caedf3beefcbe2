import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Command } from 'ioredis';
import { CommandDeadlines } from './redis-deadlines.js';

/** A stand-in for an ioredis command: answered (`isResolved`) or failed with `reject`. */
function command(): Command & { failures: Error[] } {
  const failures: Error[] = [];
  return {
    isResolved: false,
    failures,
    reject: (error: Error) => failures.push(error),
  } as unknown as Command & {
    failures: Error[];
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('a command left unanswered past the timeout fails with `Command timed out`; an answered one never does', async () => {
  const deadlines = new CommandDeadlines(20);
  const answered = command();
  const hung = command();
  deadlines.watch(answered);
  await sleep(10);
  answered.isResolved = true;
  deadlines.watch(hung); // sent after the first was answered, as replies come in order
  await sleep(60);
  assert.deepEqual(answered.failures, []);
  assert.deepEqual(
    hung.failures.map((e) => e.message),
    ['Command timed out'],
  );
  deadlines.stop();
});

test('after many answered commands, a new unanswered one still times out', async () => {
  const deadlines = new CommandDeadlines(20);
  for (let i = 0; i < 5000; i++) {
    const c = command();
    deadlines.watch(c);
    c.isResolved = true;
  }
  const hung = command();
  deadlines.watch(hung);
  await sleep(60);
  assert.equal(hung.failures[0]?.message, 'Command timed out');
  deadlines.stop();
});
