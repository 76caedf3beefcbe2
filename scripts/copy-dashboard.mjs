#!/usr/bin/env node
// `npm run build` step: the dashboard is plain HTML/CSS/ES modules with no build of its own;
// copy its files beside the compiled server so `dist/` serves them (`npm start`, the package).
import { cpSync, rmSync } from 'node:fs';

const from = new URL('../src/dashboard/assets/', import.meta.url);
const to = new URL('../dist/src/dashboard/assets/', import.meta.url);
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });
