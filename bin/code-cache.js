// Node before 22.1 has no compile cache (`module.enableCompileCache`): there `warden mcp` runs the
// CLI bundled as one CommonJS file (`cli-cached.cjs`) through `vm.Script`, and keeps the code V8
// compiled for it between runs (V8's code cache). Hand-written: Node offers this only through
// `vm.Script`'s `cachedData`, and no maintained package does it for a bundle loaded this way.
// The cache file is named after the bundle's SHA-256 and the Node version and platform (V8
// checks only the source's length), lives in $WARDEN_CACHE_DIR/code-cache or the OS cache
// folder under `warden/code-cache`, is written once at exit when missing or rejected, and a
// folder that cannot be written only means a start without it.
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import module, { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { cacheDir } from './compile-cache.js';

/**
 * Whether this Node runs the CommonJS bundle with a code cache (not with $WARDEN_CODE_CACHE=0):
 * it has no compile cache of its own, lets `require` load the ES-module-only packages the bundle leaves external, and lets
 * `import()` inside a `vm.Script` use Node's own loader.
 */
export function codeCacheWanted() {
  return (
    process.env.WARDEN_CODE_CACHE !== '0' &&
    typeof module.enableCompileCache !== 'function' &&
    process.features.require_module === true &&
    vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER !== undefined
  );
}

/** The cache file for `source` (a Buffer) on this Node: `<node>-<platform>-<arch>-<sha256>.bin`. */
export function codeCacheFile(source, dir = cacheDir('code-cache')) {
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 32);
  return join(dir, `${prefix()}${digest}.bin`);
}

/**
 * Runs the CommonJS bundle at `file` (a `file:` URL) with V8's code cache, as if it were the ES
 * module `moduleUrl` (what its `import.meta.url` names: its workers and assets sit beside it), and
 * returns its exports.
 */
export function runCached(file, moduleUrl, dir = cacheDir('code-cache')) {
  const path = fileURLToPath(file);
  const bytes = readFileSync(path);
  const cacheFile = codeCacheFile(bytes, dir);
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {
    // None yet: this run compiles, and writes it as it exits.
  }
  // The wrapper is a line of its own (lineOffset -1) so that stack traces keep the bundle's lines.
  const script = new vm.Script(
    `(function (exports, require, module, __filename, __dirname, __wardenMeta) {\n${bytes}\n})`,
    {
      filename: path,
      lineOffset: -1,
      cachedData,
      importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
    },
  );
  // Written at exit, so that it holds every function this run compiled, not only the top level.
  if (!cachedData || script.cachedDataRejected) process.once('exit', () => save(script, cacheFile));
  const loaded = { exports: {} };
  const meta = { url: moduleUrl };
  script.runInThisContext()(loaded.exports, createRequire(path), loaded, path, dirname(path), meta);
  return loaded.exports;
}

function prefix() {
  return `${process.version}-${process.platform}-${process.arch}-`;
}

/**
 * Creates `dir` and its missing parents, one at a time. Node's own recursive mkdir retries for
 * ever where a file system answers ENOENT under a folder that exists (a folder in /proc): the
 * process then spun at exit instead of leaving.
 */
function makeDir(dir) {
  try {
    mkdirSync(dir);
    return;
  } catch (error) {
    if (error?.code === 'EEXIST') return;
    if (error?.code !== 'ENOENT' || dirname(dir) === dir) throw error;
  }
  makeDir(dirname(dir));
  mkdirSync(dir);
}

/** Writes the cache atomically (readers never see half a file), replacing this Node's older ones. */
function save(script, file) {
  try {
    const dir = dirname(file);
    makeDir(dir);
    const partial = `${file}.${process.pid}.tmp`;
    writeFileSync(partial, script.createCachedData());
    renameSync(partial, file);
    const name = file.slice(dir.length + 1);
    for (const old of readdirSync(dir)) {
      if (old !== name && old.startsWith(prefix()) && old.endsWith('.bin'))
        rmSync(join(dir, old), { force: true });
    }
  } catch {
    // A folder that cannot be written: the next start compiles again.
  }
}
