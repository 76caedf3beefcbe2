import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { CompiledAgent, CompiledPolicy } from '../policy/compile.js';

/** The red team's categories, in report order. */
export const CATEGORIES = [
  'files',
  'sql',
  'http',
  'shell',
  'code',
  'loops',
  'approval',
  'injection',
] as const;
export type Category = (typeof CATEGORIES)[number];

export const CATEGORY_TITLES: Readonly<Record<Category, string>> = {
  files: 'Files (traversal, protected names, encodings)',
  sql: 'SQL (injection, destructive, administrative)',
  http: 'HTTP and SSRF',
  shell: 'Shell commands',
  code: 'Code execution',
  loops: 'Loops and resource exhaustion',
  approval: 'Approval abuse',
  injection: 'Prompt injection via observations',
};

/** One shipped case: an action as an agent would send it, and whether it is an attack. */
export interface RedteamCase {
  /** `<category>/<name>`; a variant appends `~<transform>`. */
  id: string;
  category: Category;
  kind: 'attack' | 'benign';
  /** `{root}` in strings: the agent's file root; `{cwd}`: the policy's `shell.cwd`. */
  action: { type: string; params: Record<string, unknown> };
  /** The reason code the project's own tests expect (informative: another policy may refuse it otherwise). */
  code?: string;
  note?: string;
  /** Sent this many times in a burst (with `decide`, so limits count): blocked when any is refused. */
  repeat?: number;
  /** `params[param]` is filled to `bytes` bytes at run time (kept small in the file). */
  fill?: { param: string; bytes: number };
  /** Injected text the agent read before sending the action (fed to `warden.observe` when it exists). */
  observation?: string;
}

// Beside this module (source, or `dist/src/redteam/`), or two folders up from the CLI bundle
// (`dist/src/bundle/cli/`, scripts/bundle-cli.mjs), whose chunks hold this code.
const CORPUS_DIR =
  [new URL('./corpus/', import.meta.url), new URL('../../redteam/corpus/', import.meta.url)].find((dir) =>
    existsSync(dir),
  ) ?? new URL('./corpus/', import.meta.url);

/**
 * Reads the shipped corpus (`src/redteam/corpus/*.jsonl`, copied beside the compiled code by the
 * build). A line that is not a well-formed case fails the load, naming file and line.
 */
export function loadRedteamCorpus(dir: URL = CORPUS_DIR): RedteamCase[] {
  const cases: RedteamCase[] = [];
  const seen = new Set<string>();
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()) {
    const lines = readFileSync(new URL(file, dir), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `${file}:${i + 1}`;
      let c: RedteamCase;
      try {
        c = JSON.parse(line) as RedteamCase;
      } catch (error) {
        throw new Error(`${where}: not JSON (${(error as Error).message})`);
      }
      if (!c.id || seen.has(c.id)) throw new Error(`${where}: missing or duplicate id \`${c.id}\``);
      if (!(CATEGORIES as readonly string[]).includes(c.category))
        throw new Error(`${where}: category \`${c.category}\` is not one of ${CATEGORIES.join(', ')}`);
      if (c.kind !== 'attack' && c.kind !== 'benign')
        throw new Error(`${where}: kind must be attack or benign`);
      if (typeof c.action?.type !== 'string' || typeof c.action.params !== 'object')
        throw new Error(`${where}: no action`);
      seen.add(c.id);
      cases.push(c);
    });
  }
  return cases;
}

/** What the placeholders stand for, for one agent of one policy. */
export interface Placeholders {
  root: string;
  cwd: string;
}

/**
 * `{root}`: the first of `fs.roots`, else the literal start of the agent's first path grant
 * (`/data/**` → `/data`), else `/workspace`. `{cwd}`: `shell.cwd`.
 */
export function placeholdersFor(policy: CompiledPolicy, agent: CompiledAgent | undefined): Placeholders {
  const grants = agent?.config.resources?.paths;
  const allow = Array.isArray(grants) ? grants : (grants?.allow ?? []);
  const literal = allow
    .filter((g) => g.startsWith('/'))
    .map((g) => {
      const segs = g.split('/');
      const cut = segs.findIndex((seg) => /[*?[{]/.test(seg));
      return (cut < 0 ? segs : segs.slice(0, cut)).join('/');
    })
    .find((p) => p.length > 1);
  return {
    root: policy.config.fs.roots[0] ?? literal ?? '/workspace',
    cwd: policy.config.shell.cwd,
  };
}

/** The action of `c` for an agent: placeholders replaced, `fill` applied. */
export function actionOf(c: RedteamCase, agent: string, vars: Placeholders): Record<string, unknown> {
  const params = fillStrings(c.action.params, vars) as Record<string, unknown>;
  if (c.fill) params[c.fill.param] = 'x'.repeat(c.fill.bytes);
  return { agent, type: c.action.type, params };
}

function fillStrings(value: unknown, vars: Placeholders): unknown {
  if (typeof value === 'string') return value.replaceAll('{root}', vars.root).replaceAll('{cwd}', vars.cwd);
  if (Array.isArray(value)) return value.map((v) => fillStrings(v, vars));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillStrings(v, vars)]));
  return value;
}
