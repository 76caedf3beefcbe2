#!/usr/bin/env node
// `npm run build` step: bundles the `warden` command with esbuild so that it starts fast. Node
// spends most of a CLI start resolving, reading and compiling hundreds of small modules; the
// bundle is a handful of files (the entry, the worker threads, and chunks that each command
// loads on demand), with source maps beside them so stack traces still name the `.ts` lines.
//
// Pure-JavaScript dependencies are bundled in; packages with native code, WebAssembly, files
// read at run time or worker threads of their own stay external and load from node_modules.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';

/** Dependencies safe to inline: plain JavaScript that reads nothing relative to its own file. */
const BUNDLED = new Set([
  'commander',
  'zod',
  'yaml',
  'picomatch',
  'canonicalize',
  'diff',
  're2js',
  'hono',
  '@modelcontextprotocol/sdk',
  'ajv',
  'ajv-formats',
  'ipaddr.js',
  // What the MCP SDK's client and ajv bring: each left external cost a module resolution and a
  // separate CommonJS load before `warden mcp` could start its upstream server.
  'fast-deep-equal',
  'json-schema-traverse',
  'fast-uri',
  'zod-to-json-schema',
  'cross-spawn',
  'which',
  'isexe',
  'path-key',
  'shebang-command',
  'shebang-regex',
  // One self-contained ES module (node: built-ins only): bundled, it joins the code cache instead
  // of being compiled on every start through require(esm) (about 13 ms of `warden mcp`'s start).
  '@secretlint/secretlint-rule-preset-recommend',
]);

function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

/** Everything not in {@link BUNDLED} (and every `node:` module) is imported from node_modules at run time. */
const externals = {
  name: 'warden-externals',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith('node:')) return { path: args.path, external: true };
      if (args.kind === 'entry-point') return undefined;
      return BUNDLED.has(packageOf(args.path)) ? undefined : { path: args.path, external: true };
    });
  },
};

/**
 * zod's error messages in every language (`z.locales`, about 250 kB of the bundle) are not used:
 * Warden's errors are English. The bundle keeps English only, so that every start reads, hashes
 * and loads less.
 */
const englishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: join(dirname(args.importer), '../locales/en.js'), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(args.path)};`,
      resolveDir: dirname(args.path),
    }));
  },
};

// INVARIANT: the bundle sits two folders below `dist/src/` and every output file shares one
// folder, so what the code resolves relative to its own file stays where the compiled tree has
// it: `./audit-writer-worker.js` (a worker beside the entry) and `../../dashboard/assets/`.
const outdir = new URL('../dist/src/bundle/cli/', import.meta.url).pathname;
rmSync(outdir, { recursive: true, force: true });

const result = await build({
  absWorkingDir: new URL('..', import.meta.url).pathname,
  entryPoints: {
    cli: 'src/cli/main.ts',
    'audit-writer-worker': 'src/store/sqlite/audit-writer-worker.ts',
    'verify-worker': 'src/store/sqlite/verify-worker.ts',
    'sqlite-worker': 'src/execute/sql/sqlite-worker.ts',
  },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  minify: true,
  keepNames: true,
  chunkNames: 'chunk-[hash]',
  plugins: [externals, englishOnly],
  // Bundled CommonJS packages call require() for Node's own modules.
  banner: {
    js: "import { createRequire as __wardenRequire } from 'node:module'; const require = __wardenRequire(import.meta.url);",
  },
  logLevel: 'warning',
  metafile: process.env.WARDEN_BUNDLE_META === '1',
});
// Node before 22.1 has no compile cache for ES modules: there `warden mcp` runs the whole CLI as
// this one CommonJS file through `vm.Script`, whose V8 code cache skips compiling it again
// (bin/code-cache.js). Its `import.meta` is the ES bundle's entry beside it (`__wardenMeta`).
await build({
  absWorkingDir: new URL('..', import.meta.url).pathname,
  entryPoints: { 'cli-cached': 'src/cli/run.ts' },
  outdir,
  outExtension: { '.js': '.cjs' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  minify: true,
  keepNames: true,
  plugins: [externals, englishOnly],
  define: { 'import.meta': '__wardenMeta' },
  logLevel: 'warning',
});
if (result.metafile) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(new URL('meta.json', `file://${outdir}`), JSON.stringify(result.metafile));
}
