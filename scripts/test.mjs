#!/usr/bin/env node
// Runs every *.test.ts under src/ and test/ with Node's own test runner (through tsx).
// Usage: node scripts/test.mjs [--unit] [substring …]   — only files whose path contains a substring;
// --unit leaves out the *.integration.test.ts files.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const unitOnly = process.argv.includes('--unit');
const filters = process.argv.slice(2).filter((arg) => arg !== '--unit');

function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const files = ['src', 'test']
  .flatMap((dir) => {
    try {
      return walk(join(root, dir), []);
    } catch {
      return [];
    }
  })
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .filter((file) => !unitOnly || !file.endsWith('.integration.test.ts'))
  .sort();

if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ') || 'src/**/*.test.ts'}`);
  process.exit(1);
}

// Debian packages and services the tests use (Chromium, bubblewrap, PostgreSQL, Redis): installed
// or started when missing, and their addresses passed on (scripts/services.sh).
const env = { ...process.env, WARDEN_TEST: '1' };
if (process.platform === 'linux' && !process.env.WARDEN_SKIP_SERVICES) {
  const services = spawnSync('bash', [join(root, 'scripts/services.sh')], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  for (const line of (services.stdout ?? '').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env[line.slice(0, eq)] = line.slice(eq + 1);
  }
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit', env },
);
process.exit(result.status ?? 1);
