import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SandboxPolicySchema } from '../policy/sections/sandbox.js';
import { bwrapArgs } from './bwrap-args.js';
import type { BwrapHost } from './bwrap-host.js';
import { limitsFromPolicy } from './limits.js';

const host: BwrapHost = {
  bwrap: '/usr/bin/bwrap',
  version: '0.8.0',
  prlimit: '/usr/bin/prlimit',
  cgroups: undefined,
  hostHasSwap: false,
  tmpfsSize: true,
  seccomp: undefined,
  runAs: { uid: 65534, gid: 65534 },
  systemDirs: [{ path: '/bin', symlink: 'usr/bin' }, { path: '/lib64' }],
  node: { host: '/opt/node/bin/node', inside: '/opt/warden/bin/node' },
  python: '/usr/bin/python3',
};

function argsFor(policy: Record<string, unknown> = {}) {
  const p = SandboxPolicySchema.parse(policy);
  return bwrapArgs({ host, policy: p, limits: limitsFromPolicy(p), etc: '/run/x/etc' });
}

/** The (source, destination) pairs of every bind of a kind. */
function binds(args: string[], kind: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  args.forEach((a, i) => {
    if (a === kind) out.push([args[i + 1] as string, args[i + 2] as string]);
  });
  return out;
}

test('every namespace is new, capabilities are dropped, the uid is not root', () => {
  const args = argsFor();
  for (const flag of ['--unshare-all', '--unshare-user', '--die-with-parent', '--new-session'])
    assert.ok(args.includes(flag), flag);
  assert.equal(args[args.indexOf('--cap-drop') + 1], 'ALL');
  assert.equal(args[args.indexOf('--uid') + 1], '65534');
  assert.equal(args[args.indexOf('--gid') + 1], '65534');
  assert.ok(!args.includes('--share-net'));
});

test('the host is bound read-only; only devices are dev-bound; nothing of the host is writable', () => {
  const args = argsFor();
  assert.deepEqual(binds(args, '--bind'), []);
  assert.deepEqual(
    binds(args, '--ro-bind').map(([from]) => from),
    ['/usr', '/lib64', '/run/x/etc', '/etc/alternatives', '/opt/node/bin/node'].filter(
      (p) => p !== '/etc/alternatives' || args.includes('/etc/alternatives'),
    ),
  );
  for (const [from] of binds(args, '--dev-bind'))
    assert.match(from, /^\/dev\/(null|zero|full|random|urandom)$/);
  // The root is remounted read-only after everything is in place.
  const remount = args.lastIndexOf('--remount-ro');
  assert.equal(args[remount + 1], '/');
  assert.ok(remount > args.lastIndexOf('--tmpfs'));
});

test('/tmp and the workspace are sized tmpfs; a policy-named workspace is the only host bind', () => {
  const args = argsFor({ limits: { tmpSize: '8MiB' } });
  const tmpfs = args.flatMap((a, i) => (a === '--tmpfs' ? [[args[i - 1], args[i + 1]]] : []));
  assert.deepEqual(tmpfs, [
    [String(8 * 1024 * 1024), '/tmp'],
    [String(8 * 1024 * 1024), '/workspace'],
  ]);
  const named = argsFor({ workspace: '/srv/agent-work' });
  assert.deepEqual(binds(named, '--bind'), [['/srv/agent-work', '/workspace']]);
});

test('the environment is cleared, then only the fixed and policy-named variables are set', () => {
  const args = argsFor({ env: { API_BASE: 'https://example.test' } });
  const clear = args.indexOf('--clearenv');
  assert.ok(clear >= 0);
  const set = args.flatMap((a, i) => (a === '--setenv' ? [args[i + 1]] : []));
  assert.deepEqual(set, ['PATH', 'HOME', 'TMPDIR', 'LANG', 'API_BASE']);
  assert.ok(args.indexOf('--setenv') > clear);
});
