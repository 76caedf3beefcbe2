/**
 * Warden's import structure (`npm run lint` checks it; docs/architecture.md draws it).
 * Layers, bottom to top: an import may point down or stay in its own layer, never up, and no
 * import circle is allowed, type-only imports included.
 */
const { LAYERS } = require('./scripts/layers.cjs');

const folderPattern = (folders) => `^src/(${folders.map((f) => f.replace('.', '\\.')).join('|')})(/|$)`;

const upward = LAYERS.slice(0, -1).map((layer, i) => ({
  name: `layer-${layer.name}`,
  comment: `${layer.name} (${layer.says}) must not import a layer above it`,
  severity: 'error',
  from: { path: folderPattern(layer.folders), pathNot: '\\.test\\.ts$' },
  to: { path: folderPattern(LAYERS.slice(i + 1).flatMap((l) => l.folders)) },
}));

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'an import circle, type-only ones included: move the shared type down a layer',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...upward,
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/|\\.test\\.ts$|^src/dashboard/' },
  },
};
