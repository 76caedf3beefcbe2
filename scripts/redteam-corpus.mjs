#!/usr/bin/env node
// Writes the portable part of test/corpus/{fs,sql,http,shell} into src/redteam/corpus/ (shipped
// in the package for `warden redteam`): cases whose verdict does not hang on the test fixture's
// tree (symlinks, hard links) or on the test policy's own lists (its HTTP endpoints, its shell
// allowlist's argument patterns). The other categories' files there are written by hand.
// Usage: node scripts/redteam-corpus.mjs [--check]   (--check: exit 1 when the files are stale;
// src/redteam/redteam.test.ts runs it)
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url);
const FIXTURE_OR_POLICY = new Set([
  'fs.symlink-escape',
  'fs.unresolvable',
  'fs.hard-link',
  'permissions.resource-not-granted',
  'permissions.resource-denied',
  'http.host-denied',
  'http.method-not-allowed',
  'http.header-forbidden',
  'http.payload-invalid',
  'http.sensitive-endpoint',
  'shell.args-not-allowed',
  'sql.forbidden-table',
  'fs.too-large',
]);

function lines(path) {
  return readFileSync(new URL(path, root), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

function portable(c) {
  if (c.code && FIXTURE_OR_POLICY.has(c.code)) return false;
  // Benign cases that exist only because of the fixture's links.
  return !/link|hardlink|dangling/.test(c.id);
}

const out = {
  files: [],
  sql: [],
  http: [],
  shell: [],
};
for (const [file, kind] of [
  ['fs/attacks.jsonl', 'attack'],
  ['fs/benign.jsonl', 'benign'],
]) {
  for (const c of lines(`test/corpus/${file}`).filter(portable))
    out.files.push({ id: `files/${c.id}`, kind, action: c.action, ...(c.code ? { code: c.code } : {}) });
}
for (const [file, kind] of [
  ['sql/attacks.jsonl', 'attack'],
  ['sql/benign.jsonl', 'benign'],
]) {
  for (const c of lines(`test/corpus/${file}`).filter(portable)) {
    if (c.action.params.database) continue; // the test policy's SQLite database
    out.sql.push({ id: `sql/${c.id}`, kind, action: c.action, ...(c.code ? { code: c.code } : {}) });
  }
}
for (const [file, kind] of [
  ['http/attacks.jsonl', 'attack'],
  ['http/benign.jsonl', 'benign'],
]) {
  for (const c of lines(`test/corpus/${file}`).filter(portable)) {
    if (c.dns || c.execute) continue; // need the executor and a loopback server
    const action = { type: 'http.request', params: c.params };
    out.http.push({ id: `http/${c.id}`, kind, action, ...(c.code ? { code: c.code } : {}) });
  }
}
for (const [file, kind] of [
  ['shell/attacks.jsonl', 'attack'],
  ['shell/benign.jsonl', 'benign'],
]) {
  for (const c of lines(`test/corpus/${file}`).filter(portable)) {
    // The test policy's working directory; the red team puts the policy's own `shell.cwd` there.
    const cwd = (text) => text.replaceAll('/workspace', '{cwd}');
    const params = c.command !== undefined ? { command: cwd(c.command) } : { argv: c.argv.map(cwd) };
    out.shell.push({
      id: `shell/${c.id}`,
      kind,
      action: { type: 'shell.exec', params },
      ...(c.code ? { code: c.code } : {}),
    });
  }
}
for (const [name, cases] of Object.entries(out)) {
  // Attack and benign files may reuse a name; the benign one is renamed.
  const ids = new Set();
  for (const c of cases) {
    if (ids.has(c.id)) c.id = `${c.id}-${c.kind}`;
    ids.add(c.id);
  }
  const text = cases.map((c) => JSON.stringify({ ...c, category: name })).join('\n');
  const file = new URL(`src/redteam/corpus/${name}.jsonl`, root);
  if (process.argv.includes('--check')) {
    if (readFileSync(file, 'utf8') !== `${text}\n`) {
      console.error(`src/redteam/corpus/${name}.jsonl is stale: run node scripts/redteam-corpus.mjs`);
      process.exitCode = 1;
    }
    continue;
  }
  writeFileSync(file, `${text}\n`);
  if (!process.argv.includes('--quiet')) console.log(`${name}: ${cases.length} cases`);
}
