#!/usr/bin/env node
// Draws Warden's layers (scripts/layers.cjs) and the imports between them (the real import graph,
// through dependency-cruiser) as a Mermaid diagram in docs/architecture.md, between the markers
// <!-- layers:begin --> and <!-- layers:end -->.
// Usage: node scripts/architecture.mjs           print the block
//        node scripts/architecture.mjs --write   write it into docs/architecture.md
//        node scripts/architecture.mjs --check   exit 1 when the doc differs (run by `npm run lint`)
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruiseSrc, LAYERS, layerImports, projectRoot } from './import-graph.mjs';

const DOC = join(projectRoot, 'docs/architecture.md');
const BEGIN = '<!-- layers:begin -->';
const END = '<!-- layers:end -->';

const text = (s) => s.replaceAll('"', '#quot;');

/** The Mermaid block for docs/architecture.md: top layer first, arrows point at what is imported. */
export function diagram(edges) {
  const top = [...LAYERS].reverse();
  const lines = [
    BEGIN,
    '<!-- drawn by `node scripts/architecture.mjs --write` from scripts/layers.cjs and the imports in src/ -->',
    '',
    'An arrow means "imports from": solid to the layer just below, dotted to one further down.',
    '',
    '```mermaid',
    'flowchart TB',
  ];
  for (const layer of top) {
    const folders = layer.folders.map((f) => (f.endsWith('.ts') ? f : `${f}/`));
    const rows = [];
    for (let i = 0; i < folders.length; i += 6) rows.push(folders.slice(i, i + 6).join(' '));
    lines.push(
      `  ${layer.name}["<b>${layer.name}</b><br/>${rows.join('<br/>')}<br/><i>${text(layer.says)}</i>"]`,
    );
  }
  const rank = (name) => LAYERS.findIndex((l) => l.name === name);
  for (const layer of top) {
    const targets = [...edges.get(layer.name)].sort((a, b) => rank(b) - rank(a));
    // Solid: the layer just below; dotted: further down (or, never allowed, up).
    for (const target of targets) {
      const arrow = rank(layer.name) - rank(target) === 1 ? '-->' : '-.->';
      lines.push(`  ${layer.name} ${arrow} ${target}`);
    }
  }
  lines.push('```', '', END);
  return lines.join('\n');
}

/** `doc` with the block between the markers replaced by `block`. */
export function withBlock(doc, block) {
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin) {
    throw new Error(`docs/architecture.md has no ${BEGIN} … ${END} markers: add them where the diagram goes`);
  }
  return doc.slice(0, begin) + block + doc.slice(end + END.length);
}

async function main(mode) {
  const { modules } = await cruiseSrc();
  const { edges, unlayered } = layerImports(modules);
  if (unlayered.length > 0) {
    console.error(
      `${unlayered.map((f) => `\`${f}\``).join(', ')} ${unlayered.length === 1 ? 'is' : 'are'} on no layer: add ${unlayered.length === 1 ? 'it' : 'them'} to a layer's folders in scripts/layers.cjs`,
    );
    return 1;
  }
  const block = diagram(edges);
  if (mode === undefined) {
    console.log(block);
    return 0;
  }
  const doc = readFileSync(DOC, 'utf8');
  const next = withBlock(doc, block);
  if (mode === '--write') {
    if (next !== doc) writeFileSync(DOC, next);
    console.log(next === doc ? 'docs/architecture.md is up to date' : 'docs/architecture.md redrawn');
    return 0;
  }
  if (mode === '--check') {
    if (next === doc) return 0;
    console.error('docs/architecture.md is out of date: run `node scripts/architecture.mjs --write`');
    return 1;
  }
  console.error(`unknown option \`${mode}\`: expected --write, --check or nothing`);
  return 2;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  process.exitCode = await main(process.argv[2]).catch((error) => {
    console.error(error.message);
    return 1;
  });
}
