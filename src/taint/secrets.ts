import { hash } from 'node:crypto';
import type { ContentFinding } from '../contract/observation.js';
import { secretScanner } from '../secrets/detect.js';

/** Runs of a secret's value long enough to be the secret itself (`aws_secret_access_key=` aside). */
const SECRET_RUN = /[A-Za-z0-9+/_.~-]{16,}={0,2}/g;

/**
 * Secrets that label a session `secret` when they enter its context: the shared scanner's rules
 * (secretlint's maintained set, see `src/secrets/detect.ts`), one finding per rule.
 */
export function secretFindings(content: string): ContentFinding[] {
  const rules = new Set(
    secretScanner()
      .scan(content)
      .map((h) => h.rule),
  );
  return [...rules].map((category) => ({
    label: 'secret' as const,
    category,
    message: `a secret (${category}) was in the content`,
  }));
}

/** The hash a secret run is known by in a session: never the value. */
export function secretRunHash(run: string): string {
  return hash('sha256', run).slice(0, 16);
}

/**
 * Value keys `secret:<hash>:<rule>` for each run of each secret in `content`, so that the bare
 * value (the key without the `aws_secret_access_key=` that made it recognisable) is known when
 * the session later tries to send it out.
 */
export function secretKeys(content: string): string[] {
  const out = new Set<string>();
  for (const hit of secretScanner().scan(content))
    for (const m of hit.value.matchAll(SECRET_RUN)) out.add(`secret:${secretRunHash(m[0])}:${hit.rule}`);
  return [...out];
}

/** The hashes of the runs in an outbound value, to look up in a session's seen secrets. */
export function secretRunHashes(value: string): string[] {
  return [...value.matchAll(SECRET_RUN)].map((m) => secretRunHash(m[0]));
}
