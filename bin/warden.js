#!/usr/bin/env node
// The `warden` command: the bundled CLI (`npm run build`), else the compiled modules.
import { existsSync } from 'node:fs';
import module from 'node:module';

// Node ≥ 22.1 keeps compiled code between runs; older Nodes start without the cache.
module.enableCompileCache?.();
// Stack traces name the TypeScript source (the bundle ships its source maps).
process.setSourceMapsEnabled(true);

const bundle = new URL('../dist/src/bundle/cli/cli.js', import.meta.url);
const main = new URL('../dist/src/cli/main.js', import.meta.url);
const entry = existsSync(bundle) ? bundle : main;
if (!existsSync(entry)) {
  process.stderr.write(
    'warden: the command line is not built yet: run `npm run build` (or `npm start`) in the warden checkout first\n',
  );
  process.exit(1);
}
await import(entry.href);
