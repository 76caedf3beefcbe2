#!/usr/bin/env node
// The `warden` command: the compiled CLI. From a source checkout, build it first.
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write(
    'warden: the command line is not built yet: run `npm run build` (or `npm start`) in the warden checkout first\n',
  );
  process.exit(1);
}
await import(main.href);
