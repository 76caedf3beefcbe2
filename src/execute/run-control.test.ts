import assert from 'node:assert/strict';
import test from 'node:test';
import { RunControl } from './run-control.js';

test('a signal first read after the run stopped is already aborted, with the reason', () => {
  const control = new RunControl();
  const reason = { code: 'execute.timeout', stage: 'execute', message: 'late' };
  control.abort(reason);
  assert.equal(control.signal.aborted, true);
  assert.equal(control.signal.reason, reason);
});

test('every stop listener hears the stop once, with the signal already aborted; a removed one does not', () => {
  const control = new RunControl();
  const signal = control.signal;
  const heard: string[] = [];
  control.whenStopped((r) => heard.push(`a:${String(r)}:${signal.aborted}`));
  const removeB = control.whenStopped(() => heard.push('b'));
  control.whenStopped((r) => heard.push(`c:${String(r)}`));
  removeB();
  control.abort('killed');
  control.abort('again');
  assert.deepEqual(heard, ['a:killed:true', 'c:killed']);
  control.whenStopped((r) => heard.push(`late:${String(r)}`));
  assert.equal(heard.at(-1), 'late:killed', 'a listener added after the stop hears it at once');
});
