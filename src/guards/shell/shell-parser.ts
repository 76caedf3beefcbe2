import { createRequire } from 'node:module';
import { Language, type Node, Parser, type Tree } from 'web-tree-sitter';

/**
 * Bash, parsed by tree-sitter's bash grammar compiled to WebAssembly (both ship inside their npm
 * packages; nothing is downloaded or built at install). Load once with `loadShellParser()`; then
 * `parseShell` is synchronous.
 */

let parser: Parser | undefined;
let loading: Promise<void> | undefined;

export function loadShellParser(): Promise<void> {
  loading ??= (async () => {
    await Parser.init();
    const require = createRequire(import.meta.url);
    const bash = await Language.load(require.resolve('tree-sitter-bash/tree-sitter-bash.wasm'));
    const p = new Parser();
    p.setLanguage(bash);
    parser = p;
  })();
  return loading;
}

/** Parses `command`; the caller must `delete()` the tree. Throws when the parser is not loaded. */
export function parseShell(command: string): Tree {
  if (!parser) throw new Error('the shell parser is not loaded; call loadShellParser() first');
  const tree = parser.parse(command);
  if (!tree) throw new Error('the shell parser returned no tree');
  return tree;
}

export type { Node, Tree };
