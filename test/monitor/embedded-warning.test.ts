import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';

const ROOT = new URL('../..', import.meta.url).pathname;

/** Starts a process that builds one embedded Warden with `monitoring` as given; returns its stderr. */
function embeddedStderr(monitoring: string): string {
  const script = `
    import { testWarden } from './src/testing/index.ts';
    const w = await testWarden({ agents: { a: { allow: ['x.y'] } }${monitoring} });
    await w.close();
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stderr;
}

describe('an embedded Warden with monitoring off', () => {
  test('warns once on stderr that there are no cost alerts or anomaly detection', () => {
    const stderr = embeddedStderr('');
    assert.match(stderr, /monitoring is off in this embedded Warden: no cost alerts/);
    assert.equal(stderr.match(/monitoring is off/g)?.length, 1);
  });

  test('says nothing when the policy decides (`monitoring.enabled: false` or `true`)', () => {
    assert.doesNotMatch(embeddedStderr(', monitoring: { enabled: false }'), /monitoring is off/);
    assert.doesNotMatch(embeddedStderr(', monitoring: { enabled: true }'), /monitoring is off/);
  });
});
