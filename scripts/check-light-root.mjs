#!/usr/bin/env node
// `import 'warden'` stays light: loads an entry in a fresh Node and fails when it pulls in a package
// that belongs behind a subpath export (warden/server, warden/mcp, warden/sandbox/docker).
// Usage: node scripts/check-light-root.mjs [entry]
//   entry defaults to src/index.ts (loaded through tsx); after `npm run build`, pass
//   dist/src/index.js to check what users get.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Packages the root export must not load, and the subpath that owns each. */
export const HEAVY = [
  { pattern: /\/node_modules\/(hono|@hono\/[^/]+)\//, owner: 'warden/server' },
  { pattern: /\/node_modules\/@modelcontextprotocol\/[^/]+\//, owner: 'warden/mcp' },
  { pattern: /\/node_modules\/dockerode\//, owner: 'warden/sandbox/docker' },
];

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * Loads `entry` in a child Node and returns what it loaded: `edges` maps each module (a file path
 * or `node:` URL) to the module that first asked for it.
 */
export function loadedModules(entry) {
  const dir = mkdtempSync(join(tmpdir(), 'warden-light-root-'));
  const out = join(dir, 'resolved.tsv');
  const hooks = pathToFileURL(join(root, 'scripts/record-imports.mjs')).href;
  const target = pathToFileURL(resolve(root, entry)).href;
  // The hooks are registered after tsx, so they see tsx's final answer (a .ts file, not .js).
  // CommonJS modules required from CommonJS never reach the hooks: the loader's cache lists them.
  const program = `
    import { register, createRequire } from 'node:module';
    import { appendFileSync } from 'node:fs';
    register(${JSON.stringify(hooks)}, { data: { out: ${JSON.stringify(out)} } });
    await import(${JSON.stringify(target)});
    const cache = createRequire(import.meta.url).cache;
    for (const mod of Object.values(cache)) {
      for (const child of mod?.children ?? []) appendFileSync(${JSON.stringify(out)}, mod.filename + '\\t' + child.filename + '\\n');
    }
    process.exit(0);`;
  const args = entry.endsWith('.ts') ? ['--import', 'tsx'] : [];
  const child = spawnSync(process.execPath, [...args, '--input-type=module', '-e', program], {
    cwd: root,
    encoding: 'utf8',
  });
  try {
    if (child.status !== 0) {
      throw new Error(`loading \`${entry}\` failed (exit ${child.status}):\n${child.stderr}`);
    }
    const edges = new Map();
    for (const line of readFileSync(out, 'utf8').split('\n')) {
      const [parent, url] = line.split('\t');
      if (!url) continue;
      const path = url.startsWith('file:') ? fileURLToPath(url) : url;
      const from = parent?.startsWith('file:') ? fileURLToPath(parent) : parent;
      if (!edges.has(path)) edges.set(path, from);
    }
    return edges;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The heavy packages among `edges`: one entry per package and importing module, with the chain
 * of imports that led there from the entry (`[eval1]` and the like left out).
 */
export function heavyModules(edges) {
  const found = new Map();
  for (const [path, parent] of edges) {
    const heavy = HEAVY.find((h) => h.pattern.test(path));
    // Only where a module outside the package reached into it.
    if (!heavy || !parent || heavy.pattern.test(parent)) continue;
    const name = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1] ?? path;
    const chain = [];
    for (let at = parent; at && !basename(at).startsWith('[') && chain.length < 50; at = edges.get(at)) {
      chain.unshift(at.startsWith('/') ? relative(root, at) : at);
    }
    const key = `${name} ${chain.join(' ')}`;
    if (!found.has(key)) found.set(key, { name, owner: heavy.owner, chain });
  }
  return [...found.values()];
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1]);
if (isMain) {
  const entry = process.argv[2] ?? 'src/index.ts';
  const found = heavyModules(loadedModules(entry));
  if (found.length === 0) {
    console.log(`${entry} loads none of hono, @hono/*, @modelcontextprotocol/*, dockerode`);
  } else {
    console.error(`\`${entry}\` loads packages that belong behind a subpath export:`);
    for (const { name, owner, chain } of found) {
      console.error(`  ${name} (${owner}): ${chain.join(' → ')}`);
    }
    console.error(
      '\nimport these from their subpath entry (src/server/index.ts, src/mcp/index.ts, src/sandbox/docker-sandbox.ts), not from the root export, or load them lazily with import().',
    );
    process.exit(1);
  }
}
