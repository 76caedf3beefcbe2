import { isDeepStrictEqual } from 'node:util';
import { Document, isMap, isSeq, type Node, parseDocument, type YAMLMap, YAMLSeq } from 'yaml';

/** Where new items go in a sequence. */
export type SeqEnd = 'start' | 'end';

/**
 * Adds `items` to the block sequence at `path` of YAML `text` by inserting lines only, so every
 * other byte (comments, blank lines, flow collections, spacing) stays as it was and a diff shows
 * just the addition. A missing sequence, and missing maps above it, are created at the end of the
 * deepest block map on the path (`{ limits: { rate: [...] } }` at the end of the file when there
 * is no `limits`). Returns undefined when the text cannot be edited this way: a flow collection
 * on the path (a JSON policy), a value there that is not a map or sequence, or an unusual layout.
 * The caller then re-renders the whole document instead.
 */
export function insertIntoSeq(
  text: string,
  path: readonly string[],
  items: readonly Node[],
  where: SeqEnd,
): string | undefined {
  const doc = parseDocument(text);
  if (doc.errors.length > 0 || path.length === 0 || items.length === 0) return undefined;
  const seqOf = () => {
    const seq = new YAMLSeq();
    seq.items.push(...items);
    return seq;
  };
  if (doc.contents === null) return append(text, render(nest(path, seqOf()), 0));
  let parent: unknown = doc.contents;
  let depth = 0;
  for (;;) {
    if (!isMap(parent) || parent.flow || parent.items.length === 0) return undefined;
    const key = path[depth] as string;
    const child: unknown = parent.get(key, true);
    if (child === undefined) break;
    if (depth === path.length - 1) return intoSeq(text, child, seqOf(), where);
    parent = child;
    depth++;
  }
  // `parent` is a block map without `path[depth]`: add the rest of the path as its last key.
  const map = parent as YAMLMap;
  const indent = columnIfLineStart(text, (map.items[0]?.key as Node | undefined)?.range?.[0]);
  const end = map.range?.[1];
  if (indent === undefined || end === undefined) return undefined;
  return insertAt(text, end, render(nest(path.slice(depth), seqOf()), indent));
}

/** Whether two YAML texts hold the same value (key order and layout aside). */
export function sameYamlValue(a: string, b: string): boolean {
  return isDeepStrictEqual(parseDocument(a).toJS(), parseDocument(b).toJS());
}

function intoSeq(text: string, seq: unknown, add: YAMLSeq, where: SeqEnd): string | undefined {
  if (!isSeq(seq) || seq.flow || seq.items.length === 0 || !seq.range) return undefined;
  // The range of a block sequence starts at its first `-` (or a comment above it), at its indentation.
  const indent = columnIfLineStart(text, seq.range[0]);
  if (indent === undefined) return undefined;
  const at = where === 'start' ? seq.range[0] - indent : seq.range[1];
  return insertAt(text, at, render(add, indent));
}

/** `{ a: { b: value } }` for path `[a, b]`. */
function nest(path: readonly string[], value: Node): Node {
  let node: Node = value;
  for (const key of [...path].reverse()) {
    const doc = new Document({});
    (doc.contents as YAMLMap).set(key, node);
    node = doc.contents as YAMLMap;
  }
  return node;
}

function render(node: Node, indent: number): string {
  const doc = new Document();
  doc.contents = node;
  const pad = ' '.repeat(indent);
  return doc.toString().replace(/^(?=.)/gm, pad);
}

/** The column of `offset` when only spaces come before it on its line. */
function columnIfLineStart(text: string, offset: number | undefined): number | undefined {
  if (offset === undefined) return undefined;
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  return /^ *$/.test(text.slice(lineStart, offset)) ? offset - lineStart : undefined;
}

function insertAt(text: string, at: number, lines: string): string {
  const before = text.slice(0, at);
  const sep = before === '' || before.endsWith('\n') ? '' : '\n';
  return `${before}${sep}${lines}${text.slice(at)}`;
}

function append(text: string, lines: string): string {
  return insertAt(text, text.length, lines);
}
