// Stack traces of the bundled CLI name the TypeScript source, with each source map read only when
// a stack that passes through its file is printed. Hand-written because Node's own source map
// support (`process.setSourceMapsEnabled`) reads and parses every map as its file loads: on Node 20
// that is several MB of JSON on every start, for traces that are almost never printed.
import { readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** @type {Map<string, SourceMap | null>} */
const maps = new Map();

/** @param {string} file the bundle file's `file:` URL @returns {SourceMap | null} */
function mapOf(file) {
  let map = maps.get(file);
  if (map !== undefined) return map;
  map = null;
  try {
    const url = new URL(file);
    const payload = JSON.parse(readFileSync(new URL(`${url.href}.map`), 'utf8'));
    payload.sources = payload.sources.map((/** @type {string} */ s) =>
      fileURLToPath(new URL(s, `${url.href}.map`)),
    );
    map = new SourceMap(payload);
  } catch {
    // No map beside it (or unreadable): the frame is printed as it is.
  }
  maps.set(file, map);
  return map;
}

/** @param {NodeJS.CallSite} site */
function frame(site) {
  const name = site.getFileName();
  const file = name && (name.startsWith('file:') ? name : pathToFileURL(name).href);
  const line = site.getLineNumber();
  const column = site.getColumnNumber();
  const map = file?.startsWith(bundleDir) && line && column ? mapOf(file) : null;
  const entry = map?.findEntry(line - 1, column - 1);
  if (!entry?.originalSource) return `    at ${site}`;
  const where = `${entry.originalSource}:${entry.originalLine + 1}:${entry.originalColumn + 1}`;
  const fn = site.getFunctionName() ?? site.getMethodName();
  const prefix = `${site.isAsync() ? 'async ' : ''}${site.isConstructor() ? 'new ' : ''}`;
  return fn ? `    at ${prefix}${fn} (${where})` : `    at ${prefix}${where}`;
}

let bundleDir = '';

/** Maps the frames of files under `dir` (a `file:` URL ending in `/`) through their `.map` files. */
export function mapStackTraces(dir) {
  bundleDir = dir;
  Error.prepareStackTrace = (error, sites) => {
    let head;
    try {
      head = String(error);
    } catch {
      head = 'Error';
    }
    return [head, ...sites.map(frame)].join('\n');
  };
}
