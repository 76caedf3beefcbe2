import { readFileSync } from 'node:fs';

/** `{{secret:NAME}}`: a secret the agent names but never sees. */
export const REFERENCE = /\{\{\s*secret:([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/;
const REFERENCES = new RegExp(REFERENCE.source, 'g');

/** Where a reference's value comes from: `{ env }` or `{ file }` (`secrets.references`). */
export interface ReferenceSource {
  env?: string | undefined;
  file?: string | undefined;
}

/** The names of the references in `value`'s strings, at any depth. */
export function referencesIn(value: unknown, into: Set<string> = new Set(), depth = 0): Set<string> {
  if (typeof value === 'string') {
    if (value.includes('{{')) for (const m of value.matchAll(REFERENCES)) into.add(m[1] as string);
  } else if (value !== null && typeof value === 'object' && depth < 16) {
    for (const v of Object.values(value)) referencesIn(v, into, depth + 1);
  }
  return into;
}

/** Raised when a reference cannot be resolved; the message names the reference, never a value. */
export class SecretReferenceError extends Error {
  readonly code = 'secrets.unresolved';
}

/**
 * Reads a reference's value: the source the policy names, else the environment variable
 * `WARDEN_SECRET_<NAME>`. A file's trailing newline is dropped.
 */
export function readReference(
  name: string,
  sources: Readonly<Record<string, ReferenceSource>>,
  env: NodeJS.ProcessEnv = process.env,
): string {
  const source = sources[name] ?? { env: `WARDEN_SECRET_${name}` };
  if (source.file) {
    try {
      return readFileSync(source.file, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new SecretReferenceError(
        `secrets.unresolved: \`{{secret:${name}}}\` cannot be read from its file (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }
  const value = source.env ? env[source.env] : undefined;
  if (value === undefined || value === '')
    throw new SecretReferenceError(
      `secrets.unresolved: \`{{secret:${name}}}\` has no value: set the environment variable \`${source.env}\``,
    );
  return value;
}

/**
 * A copy of `value` with every reference replaced by its secret, and the secrets used (so an
 * error message can be cleaned of them). Returns the input itself when it holds no reference.
 */
export function resolveReferences<T>(
  value: T,
  read: (name: string) => string,
  used: Set<string> = new Set(),
  depth = 0,
): T {
  if (typeof value === 'string') {
    if (!value.includes('{{')) return value;
    return value.replace(REFERENCES, (_, name: string) => {
      const secret = read(name);
      used.add(secret);
      return secret;
    }) as T;
  }
  if (value === null || typeof value !== 'object' || depth >= 16) return value;
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, read, used, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = resolveReferences(v, read, used, depth + 1);
  return out as T;
}

/** `text` with each of `secrets` replaced by `[REDACTED:reference]`. */
export function scrubSecrets(text: string, secrets: ReadonlySet<string>): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('[REDACTED:reference]');
  return out;
}
