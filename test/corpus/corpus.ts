import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** One corpus entry: an action, whether it is an attack or benign, and what must come out. */
export interface CorpusCase {
  id: string;
  /** `bypass`: a known attack that is still allowed (documented), in a list that only shrinks. */
  kind: 'attack' | 'benign' | 'bypass';
  action: { type: string; params: Record<string, unknown> };
  /** `allow` for benign cases; `not-allow` (deny or ask) for attacks. */
  expect: 'allow' | 'not-allow';
  /** When given, the code of the first reason. */
  code?: string;
  note?: string;
}

/**
 * Reads `test/corpus/<guard>/<file>` as JSON lines; `check` throws, naming `where`
 * (`guard/file:line`), for an entry that would assert nothing.
 */
export function readJsonl<T>(guard: string, file: string, check: (entry: T, where: string) => void): T[] {
  const lines = readFileSync(join(import.meta.dirname, guard, file), 'utf8').split('\n');
  const entries: T[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    const entry = JSON.parse(line) as T;
    check(entry, `${guard}/${file}:${i + 1}`);
    entries.push(entry);
  });
  return entries;
}

/**
 * Loads `test/corpus/<guard>/*.jsonl`. An entry without an expectation, or whose expectation
 * does not fit its kind, fails the load: a case that asserts nothing is a defect.
 */
export function loadCorpus(guard: string, file: string): CorpusCase[] {
  const seen = new Set<string>();
  return readJsonl<CorpusCase>(guard, file, (c, where) => {
    if (!c.id || seen.has(c.id)) throw new Error(`${where}: missing or duplicate id \`${c.id}\``);
    seen.add(c.id);
    if (c.kind !== 'attack' && c.kind !== 'benign' && c.kind !== 'bypass')
      throw new Error(`${where}: kind must be attack, benign or bypass`);
    if (c.kind === 'bypass' && !c.note) throw new Error(`${where}: a known bypass must say why (note)`);
    const fits = c.kind === 'attack' ? c.expect === 'not-allow' : c.expect === 'allow';
    if (!fits)
      throw new Error(
        `${where}: a ${c.kind} case must expect ${c.kind === 'attack' ? 'not-allow' : 'allow'}`,
      );
    if (!c.action?.type || typeof c.action.params !== 'object') throw new Error(`${where}: no action`);
  });
}

/** Replaces `{name}` placeholders in every string of `value`. */
export function fill<T>(value: T, vars: Record<string, string>): T {
  if (typeof value === 'string') return value.replace(/\{(\w+)\}/g, (m, k: string) => vars[k] ?? m) as T;
  if (Array.isArray(value)) return value.map((v) => fill(v, vars)) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v, vars)])) as T;
  return value;
}
