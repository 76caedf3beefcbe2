import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sandboxConformance } from '../../src/sandbox/sandbox.conformance.js';
import { ROOT } from '../helpers/cli.js';
import { sh, testSandbox } from './helpers.js';

// The escape suite, part 1: what a command inside can reach. Runs against the real bubblewrap.
const sandbox = testSandbox();
after(() => sandbox.close());

describe('network', () => {
  let server: Server;
  let port = 0;
  let connections = 0;
  before(async () => {
    server = createServer((socket) => {
      connections++;
      socket.end('host secret\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test("a TCP server on the host's loopback is unreachable from inside", async () => {
    const code = [
      'import socket',
      'try:',
      `    s = socket.create_connection(("127.0.0.1", ${port}), timeout=2); print("CONNECTED", s.recv(100))`,
      'except OSError as e:',
      '    print("refused", e)',
    ].join('\n');
    const r = await sandbox.run({ argv: ['python3', '-'], stdin: code });
    assert.match(r.stdout.text, /^refused/);
    assert.equal(connections, 0);
  });

  test("the host's other addresses are unreachable too (no interface but loopback)", async () => {
    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
    const target = external ?? '192.0.2.1';
    const code = `import socket\ntry:\n    socket.create_connection(("${target}", ${port}), timeout=2); print("CONNECTED")\nexcept OSError as e:\n    print("failed", e)`;
    const r = await sandbox.run({ argv: ['python3', '-'], stdin: code });
    assert.match(r.stdout.text, /^failed .*(unreachable|refused)/i);
    const links = await sandbox.run({ argv: sh('tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "') });
    assert.equal(links.stdout.text.trim(), 'lo');
  });

  test('DNS fails', async () => {
    const r = await sandbox.run({
      argv: [
        'python3',
        '-c',
        'import socket\ntry:\n print(socket.getaddrinfo("example.com", 80))\nexcept OSError as e:\n print("no dns", e)',
      ],
    });
    assert.match(r.stdout.text, /^no dns/);
  });

  test("the guide's test: Python's standard library cannot fetch evil.com", async () => {
    const r = await sandbox.run({
      argv: ['python3', '-'],
      stdin:
        "import urllib.request\nurllib.request.urlopen('http://evil.com', timeout=3)\nprint('FETCHED')\n",
    });
    assert.notEqual(r.exitCode, 0);
    assert.doesNotMatch(r.stdout.text, /FETCHED/);
    assert.match(r.stderr.text, /URLError|Name or service not known|Temporary failure in name resolution/);
  });
});

describe('file system', () => {
  const canaryDir = mkdtempSync(join(tmpdir(), 'warden-canary-'));
  const canary = join(canaryDir, 'host-secret.txt');
  writeFileSync(canary, 'host secret');
  after(() => rmSync(canaryDir, { recursive: true, force: true }));

  test('no writes outside the workspace: system paths are read-only and nothing reaches the host', async () => {
    const targets = [
      '/usr/pwned',
      '/etc/pwned',
      '/pwned',
      '/bin/pwned',
      '/proc/sys/kernel/pwned',
      '/dev/pwned',
    ];
    const r = await sandbox.run({
      argv: sh(
        `for t in ${targets.join(' ')}; do echo x > $t 2>/dev/null && echo "WROTE $t"; done; echo done`,
      ),
    });
    assert.equal(r.stdout.text, 'done\n');
    for (const t of ['/usr/pwned', '/etc/pwned', '/pwned']) assert.equal(existsSync(t), false, t);
  });

  test('no writes outside the workspace even by remounting, or as root in a nested user namespace', async () => {
    const script = [
      'mount -o remount,rw / 2>/dev/null && echo "REMOUNTED /"',
      'mount -o remount,rw /usr 2>/dev/null && echo "REMOUNTED /usr"',
      'unshare -rm sh -c "mount -o remount,rw /usr && touch /usr/pwned && echo NESTED-WROTE" 2>/dev/null',
      'touch /usr/pwned 2>/dev/null && echo WROTE',
      'echo done',
    ].join('; ');
    for (const seccomp of [true, false]) {
      // Without the seccomp filter the nested namespace can be created: the read-only binds
      // stay locked, so the write still fails (defence in depth, not one wall).
      const box = seccomp ? sandbox : testSandbox({ seccomp: false });
      try {
        const r = await box.run({ argv: sh(script) });
        assert.equal(r.stdout.text, 'done\n', `seccomp ${seccomp}`);
      } finally {
        if (box !== sandbox) await box.close();
      }
    }
    assert.equal(existsSync('/usr/pwned'), false);
  });

  test('the workspace is writable and private to the run', async () => {
    const first = await sandbox.run({ argv: sh('pwd; echo mine > note && cat note') });
    assert.equal(first.stdout.text, '/workspace\nmine\n');
    const second = await sandbox.run({ argv: sh('ls -A /workspace /tmp') });
    assert.equal(second.stdout.text.replace(/\s+/g, ' ').trim(), '/tmp: /workspace:');
  });

  test('host files outside the binds are invisible: /root, /home, the project, the host /tmp', async () => {
    const paths = ['/root', '/home', ROOT, canaryDir, canary, '/etc/shadow', '/var', '/run/secrets'];
    const r = await sandbox.run({
      argv: sh(`for p in ${paths.join(' ')}; do [ -e "$p" ] && echo "SEEN $p"; done; echo done`),
    });
    assert.equal(r.stdout.text, 'done\n');
  });

  test('a symlink in the workspace pointing out of it leads nowhere', async () => {
    const r = await sandbox.run({
      argv: sh(
        `ln -s ${canary} out && ln -s /root rootlink && ln -s ${ROOT} project && cat out rootlink/.bashrc project/package.json 2>&1; echo "rc=$?"`,
      ),
    });
    assert.doesNotMatch(r.stdout.text, /host secret|"name"/);
    assert.match(r.stdout.text, /No such file or directory[\s\S]*rc=1/);
  });
});

describe('identity', () => {
  test('runs as uid 65534 with no capabilities, a cleared environment and its own pid namespace', async () => {
    process.env.WARDEN_TEST_HOST_SECRET = 'leaked';
    const r = await sandbox.run({
      argv: sh(
        'id -u; grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status | tr -d "\\t"; env | sort; echo pid=$$; ps -e 2>/dev/null | wc -l',
      ),
    });
    delete process.env.WARDEN_TEST_HOST_SECRET;
    const out = r.stdout.text;
    assert.match(out, /^65534\n/);
    assert.match(out, /CapEff:0000000000000000/);
    assert.match(out, /CapBnd:0000000000000000/);
    assert.doesNotMatch(out, /leaked|WARDEN_TEST/);
    assert.match(out, /pid=2\n/); // bubblewrap's init is 1: the host's processes are not visible
  });

  test('dangerous syscalls fail under the seccomp filter (ptrace, unshare, keyctl, io_uring)', async () => {
    const code = [
      'import ctypes, os',
      'libc = ctypes.CDLL(None, use_errno=True)',
      'for name, call in [("ptrace", lambda: libc.ptrace(0, 0, 0, 0)), ("unshare", lambda: libc.unshare(0x10000000)), ("keyctl", lambda: libc.syscall(250, 0, 0, 0, 0)), ("io_uring_setup", lambda: libc.syscall(425, 1, 0))]:',
      '    rc = call(); print(name, rc, os.strerror(ctypes.get_errno()))',
    ].join('\n');
    const r = await sandbox.run({ argv: ['python3', '-'], stdin: code });
    assert.match(r.stdout.text, /ptrace -1 Operation not permitted/);
    assert.match(r.stdout.text, /unshare -1 Operation not permitted/);
    assert.match(r.stdout.text, /keyctl -1 Operation not permitted/);
    assert.match(r.stdout.text, /io_uring_setup -1 Operation not permitted/);
  });
});

sandboxConformance('bwrap, pre-started (sandbox.warm: 2)', async () => {
  const box = testSandbox({ warm: 2 });
  await box.run({ argv: ['true'] }); // the first run starts cold and fills the pool
  return box;
});
sandboxConformance('bwrap, cold (sandbox.warm: 0)', async () => testSandbox({ warm: 0 }));

test('a policy-named workspace is bound read-write and keeps its files between runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-named-ws-'));
  chownSync(dir, 65534, 65534);
  const box = testSandbox({ workspace: dir });
  try {
    await box.run({ argv: sh('echo kept > note') });
    const again = await box.run({ argv: sh('cat note; ls -A /tmp') });
    assert.equal(again.stdout.text, 'kept\n');
    assert.equal(readFileSync(join(dir, 'note'), 'utf8'), 'kept\n');
  } finally {
    await box.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
