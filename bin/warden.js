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
// Node ≥ 22.1 keeps compiled code between runs (in the OS cache folder); older Nodes start without.
(await import('./compile-cache.js')).enableCompileCache();
// Stack traces name the TypeScript source: the bundle's maps are read when a trace is printed.
if (entry === bundle) (await import('./source-maps.js')).mapStackTraces(new URL('./', bundle).href);
else process.setSourceMapsEnabled(true);
await import(entry.href);
