import { createRequire } from 'node:module';
import type { Node, Parser, Tree } from 'web-tree-sitter';

/**
 * Bash, parsed by tree-sitter's bash grammar compiled to WebAssembly (both ship inside their npm
 * packages; nothing is downloaded or built at install). Load once with `loadShellParser()`; then
 * `parseShell` is synchronous. The package itself is imported by that load, not with this module,
 * so a Warden whose policy lets no agent run commands never loads it.
 */

let parser: Parser | undefined;
let loading: Promise<void> | undefined;

/**
 * Loads the parser once; later calls share the first attempt (a failure stays a failure).
 * `from` replaces the package, for tests of a failing load.
 */
export function loadShellParser(
  from: () => Promise<Pick<typeof import('web-tree-sitter'), 'Language' | 'Parser'>> = () =>
    import('web-tree-sitter'),
): Promise<void> {
  loading ??= (async () => {
    const { Language, Parser } = await from();
    await Parser.init();
    const require = createRequire(import.meta.url);
    const bash = await Language.load(require.resolve('tree-sitter-bash/tree-sitter-bash.wasm'));
    const p = new Parser();
    p.setLanguage(bash);
    parser = p;
  })();
  return loading;
}

/** Whether `loadShellParser()` has completed: commands can be parsed synchronously. */
export function shellParserLoaded(): boolean {
  return parser !== undefined;
}

/** Parses `command`; the caller must `delete()` the tree. Throws when the parser is not loaded. */
export function parseShell(command: string): Tree {
  if (!parser) throw new Error('the shell parser is not loaded; call loadShellParser() first');
  const tree = parser.parse(command);
  if (!tree) throw new Error('the shell parser returned no tree');
  return tree;
}

export type { Node, Tree };
