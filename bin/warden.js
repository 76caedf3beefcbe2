#!/usr/bin/env node
// The `warden` command: the bundled CLI (`npm run build`), else the compiled modules.
import { existsSync } from 'node:fs';

const bundle = new URL('../dist/src/bundle/cli/cli.js', import.meta.url);
const main = new URL('../dist/src/cli/main.js', import.meta.url);
const entry = existsSync(bundle) ? bundle : main;
if (!existsSync(entry)) {
  process.stderr.write(
    'warden: the command line is not built yet: run `npm run build` (or `npm start`) in the warden checkout first\n',
  );
  process.exit(1);
}
// Stack traces name the TypeScript source: the bundle's maps are read when a trace is printed.
if (entry === bundle) (await import('./source-maps.js')).mapStackTraces(new URL('./', bundle).href);
else process.setSourceMapsEnabled(true);
// Node ≥ 22.1 keeps compiled code between runs (in the OS cache folder). Before it, `warden mcp`
// (whose start an MCP client waits for) runs the CLI as one CommonJS file with V8's code cache.
const cached = new URL('cli-cached.cjs', bundle);
const codeCache = entry === bundle && process.argv[2] === 'mcp' ? await import('./code-cache.js') : undefined;
if (codeCache?.codeCacheWanted() && existsSync(cached)) {
  await codeCache.runCached(cached, bundle.href).runCli(process.argv);
} else {
  (await import('./compile-cache.js')).enableCompileCache();
  await import(entry.href);
}
