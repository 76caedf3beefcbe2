// Warden's import graph through dependency-cruiser's API, with the project's rules
// (.dependency-cruiser.cjs): used by scripts/architecture.mjs and test/architecture/.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

/** The layers of scripts/layers.cjs, bottom to top. */
export const { LAYERS } = createRequire(import.meta.url)('./layers.cjs');

/**
 * Cruises `src` under `root` (the project by default; a test passes a tree of its own, which needs
 * a tsconfig.json) and returns dependency-cruiser's result: `modules` with their resolved
 * dependencies, and `summary.violations` of the project's rules.
 */
export async function cruiseSrc(root = projectRoot) {
  const options = await extractDepcruiseOptions(join(projectRoot, '.dependency-cruiser.cjs'));
  const tsConfig = join(root, 'tsconfig.json');
  const result = await cruise(
    ['src'],
    { ...options, baseDir: root, tsConfig: { fileName: tsConfig } },
    {},
    { tsConfig: extractTSConfig(tsConfig) },
  );
  if (typeof result.output === 'string')
    throw new Error('dependency-cruiser returned a report, not a result');
  return result.output;
}

/** The layer a path under src/ is on (its first folder, or `index.ts`), or undefined. */
export function layerOf(path) {
  const first = /^src\/([^/]+)/.exec(path)?.[1];
  return LAYERS.find((layer) => layer.folders.includes(first));
}

/** Layer → layers it imports from (never itself), and the src/ folders that are on no layer. */
export function layerImports(modules) {
  const edges = new Map(LAYERS.map((layer) => [layer.name, new Set()]));
  const unlayered = new Set();
  for (const module of modules) {
    if (!module.source.startsWith('src/')) continue;
    const from = layerOf(module.source);
    if (!from) {
      unlayered.add(module.source.split('/').slice(0, 2).join('/'));
      continue;
    }
    for (const dependency of module.dependencies) {
      const to = dependency.resolved.startsWith('src/') ? layerOf(dependency.resolved) : undefined;
      if (to && to !== from) edges.get(from.name).add(to.name);
    }
  }
  return { edges, unlayered: [...unlayered].sort() };
}

/** One line per violation, as `rule: from → to` (a circle lists its modules). */
export function describeViolations(violations) {
  return violations.map((v) =>
    v.cycle?.length
      ? `${v.rule.name}: ${[v.from, ...v.cycle.map((c) => c.name)].join(' → ')}`
      : `${v.rule.name}: ${v.from} → ${v.to}`,
  );
}
