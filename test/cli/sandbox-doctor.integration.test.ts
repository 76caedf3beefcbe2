import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { SandboxDiagnosis } from '../../src/sandbox/doctor.js';
import { type CliResult, ROOT, runCli, tempDir } from '../helpers/cli.js';

const tmp = tempDir();
after(() => tmp.remove());

/** A policy with the given `sandbox` section lines (indented under `sandbox:`). */
function policy(name: string, sandbox: string[]): string {
  const file = join(tmp.dir, name);
  writeFileSync(
    file,
    [
      'version: 1',
      'agents:',
      '  coder:',
      '    allow: [shell.exec]',
      'sandbox:',
      ...sandbox.map((l) => `  ${l}`),
      '',
    ].join('\n'),
  );
  return file;
}

// No Docker engine can answer here: the outcome depends on bubblewrap alone.
const noEngine = () => `docker: { socket: ${join(tmp.dir, 'no-engine.sock')} }`;

test('sandbox doctor on a host where bubblewrap works: exit 0, bwrap ok, chosen bwrap', async () => {
  const r = await runCli([
    'sandbox',
    'doctor',
    '--policy',
    policy('auto.yaml', ['backend: auto', noEngine()]),
  ]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^bwrap: ok — bwrap /m);
  assert.match(r.stdout, /^ {2}ok {4}trial run /m);
  assert.match(r.stdout, /^ {2}FAIL {2}engine +no Docker engine answers at /m);
  assert.match(r.stdout, /sudo apt-get install docker\.io/);
  assert.match(r.stdout, /^chosen: bwrap — shell\.exec and code\.exec run in bwrap$/m);
});

test('sandbox doctor --json prints a diagnosis scripts can read', async () => {
  const r = await runCli(['sandbox', 'doctor', '--json', '--policy', policy('json.yaml', [noEngine()])]);
  assert.equal(r.code, 0, r.stderr);
  const d = JSON.parse(r.stdout) as SandboxDiagnosis & { policy: string };
  assert.equal(d.ok, true);
  assert.equal(d.chosen, 'bwrap');
  assert.equal(d.policyBackend, 'auto');
  assert.deepEqual(
    d.backends.map((b) => [b.backend, b.ok]),
    [
      ['bwrap', true],
      ['docker', false],
    ],
  );
  const bwrap = d.backends[0];
  assert.deepEqual(
    bwrap?.checks.map((c) => [c.name, c.status]),
    [
      ['binary', 'ok'],
      ['user namespaces', 'ok'],
      ['cgroups', 'ok'],
      ['seccomp', 'ok'],
      ['python3', 'ok'],
      ['trial run', 'ok'],
    ],
  );
});

test('sandbox doctor with a policy forcing a backend that cannot run here: exit 1, and it says how to get one', async () => {
  const r = await runCli([
    'sandbox',
    'doctor',
    '--policy',
    policy('docker.yaml', ['backend: docker', noEngine()]),
  ]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^docker: cannot run commands here$/m);
  assert.match(r.stdout, /Debian\/Ubuntu: sudo apt-get install docker\.io && sudo systemctl start docker/);
  assert.match(r.stdout, /macOS: install and start Docker Desktop/);
  assert.match(
    r.stdout,
    /^result: the `docker` backend the policy names does not work: shell\.exec and code\.exec are denied \(sandbox\.unavailable\); fix what is marked `FAIL` above, or set `sandbox\.backend: bwrap` \(it works here\)$/m,
  );
  const json = await runCli(['sandbox', 'doctor', '--json', '--policy', join(tmp.dir, 'docker.yaml')]);
  assert.equal(json.code, 1);
  assert.equal((JSON.parse(json.stdout) as SandboxDiagnosis).chosen, 'none');
});

/** `warden …` on this host with /usr/bin/bwrap hidden, as on a fresh machine without bubblewrap. */
function withoutBubblewrap(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'bwrap',
      [
        '--dev-bind',
        '/',
        '/',
        '--ro-bind',
        '/dev/null',
        '/usr/bin/bwrap',
        '--',
        process.execPath,
        '--import',
        'tsx',
        join(ROOT, 'src/cli/main.ts'),
        ...args,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
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
  });
}

test('sandbox doctor on a machine without bubblewrap: exit 1, and it names the package for each system', async () => {
  const r = await withoutBubblewrap(['sandbox', 'doctor', '--policy', policy('fresh.yaml', [noEngine()])]);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /^ {2}FAIL {2}binary +bubblewrap \(`bwrap`\) is not installed/m);
  assert.match(r.stdout, /Debian\/Ubuntu: sudo apt-get install bubblewrap/);
  assert.match(r.stdout, /Fedora\/RHEL: sudo dnf install bubblewrap/);
  assert.match(
    r.stdout,
    /macOS \(no bubblewrap\): install Docker Desktop and set `sandbox\.backend: docker`/,
  );
  assert.match(r.stdout, /^result: no backend works: shell\.exec and code\.exec are denied/m);
});

test('sandbox doctor --help says what it checks and what the exit status means', async () => {
  const r = await runCli(['sandbox', 'doctor', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--policy <file>/);
  assert.match(r.stdout, /--json/);
  assert.match(r.stdout, /user namespaces/);
  assert.match(r.stdout, /Exit status: 0 when the backend the policy leads to/);
});
