#!/usr/bin/env node
// Small files: a non-test file under src/ longer than 300 lines says why at its top, on a first
// line starting `// One file because` or `// Long because`. Split it instead when a clean seam
// exists. Test files (*.test.ts) and shared test suites (*.conformance.ts) are exempt.
// Usage: node scripts/check-file-sizes.mjs   (run by `npm run lint`)
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MAX_LINES = 300;
const REASON = /^\/\/ (One file|Long) because \S/;

const root = fileURLToPath(new URL('..', import.meta.url));

function* sourceFiles(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (/\.(ts|mts|js|mjs)$/.test(entry.name) && !/\.(test|conformance)\.[mc]?[jt]s$/.test(entry.name))
      yield path;
  }
}

/** The files under `dir` longer than MAX_LINES whose first line gives no reason, with their lengths. */
export function unexplainedLongFiles(dir = join(root, 'src')) {
  const found = [];
  for (const path of sourceFiles(dir)) {
    const text = readFileSync(path, 'utf8');
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (lines > MAX_LINES && !REASON.test(text.split('\n', 1)[0] ?? '')) {
      found.push({ path: relative(root, path), lines });
    }
  }
  return found.sort((a, b) => b.lines - a.lines);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const found = unexplainedLongFiles();
  if (found.length > 0) {
    console.error(`${found.length} file(s) over ${MAX_LINES} lines without a reason at the top:`);
    for (const { path, lines } of found) console.error(`  ${path} (${lines} lines)`);
    console.error(
      '\nsplit each where a clean seam exists, or make its first line say why it is one file:\n' +
        '  // One file because <the real reason>',
    );
    process.exit(1);
  }
}
