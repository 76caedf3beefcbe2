#!/usr/bin/env node
// `npm run build` step: the dashboard is plain HTML/CSS/ES modules with no build of its own;
// copy its files beside the compiled server so `dist/` serves them (`npm start`, the package),
// and the red team's corpus beside the compiled red team.
import { cpSync, rmSync } from 'node:fs';

const from = new URL('../src/dashboard/assets/', import.meta.url);
const to = new URL('../dist/src/dashboard/assets/', import.meta.url);
rmSync(to, { recursive: true, force: true });
cpSync(from, to, { recursive: true });

// The red team's shipped corpus (data files read at run time by `warden redteam`).
const corpusFrom = new URL('../src/redteam/corpus/', import.meta.url);
const corpusTo = new URL('../dist/src/redteam/corpus/', import.meta.url);
rmSync(corpusTo, { recursive: true, force: true });
cpSync(corpusFrom, corpusTo, { recursive: true });
