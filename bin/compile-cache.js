// Node's compile cache (`module.enableCompileCache`, Node ≥ 22.1) keeps the code V8 compiled for
// Warden's modules between runs, so a start skips most of the compiling. It lives in
// $WARDEN_CACHE_DIR, else the OS cache folder (`$XDG_CACHE_HOME`, `~/.cache`, `~/Library/Caches`,
// `%LOCALAPPDATA%`) under `warden/`. A Node without it, or a folder that cannot be written, only
// means a start without the cache.
import module from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The folder Warden keeps its compile cache in. */
export function compileCacheDir(env = process.env, platform = process.platform) {
  return cacheDir('compile-cache', env, platform);
}

/** The folder `name` of Warden's caches: in $WARDEN_CACHE_DIR, else in the OS cache folder under `warden/`. */
export function cacheDir(name, env = process.env, platform = process.platform) {
  if (env.WARDEN_CACHE_DIR) return join(env.WARDEN_CACHE_DIR, name);
  const base =
    platform === 'win32'
      ? (env.LOCALAPPDATA ?? join(homedir(), 'AppData', 'Local'))
      : platform === 'darwin'
        ? join(homedir(), 'Library', 'Caches')
        : (env.XDG_CACHE_HOME ?? join(homedir(), '.cache'));
  return join(base, 'warden', name);
}

export function enableCompileCache() {
  if (typeof module.enableCompileCache !== 'function') return;
  try {
    // Node reports a folder it cannot create or write in its return value; it does not throw.
    module.enableCompileCache(compileCacheDir());
  } catch {
    // A start without the cache.
  }
}
