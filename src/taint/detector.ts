import type { ContentFinding } from '../contract/observation.js';

/**
 * Looks at content that entered an agent's context and says what it found: instruction-like
 * text (`injection`, with a category) and secrets (`secret`). A second line, not the defence:
 * injected instructions often read like ordinary requests, and no detector catches them all.
 * Argument provenance is what stops an attacker's value from reaching a parameter.
 *
 * A model-based classifier plugs in behind the same interface (`createWarden({ detectors })`);
 * `detect` may be async. It must not change the world and must not keep the content.
 */
export interface Detector {
  readonly name: string;
  detect(content: string): ContentFinding[] | Promise<ContentFinding[]>;
}

/** Runs every detector; one that throws yields a finding saying so (fail closed: the session is labelled). */
export async function detectAll(detectors: readonly Detector[], content: string): Promise<ContentFinding[]> {
  const out: ContentFinding[] = [];
  for (const d of detectors) {
    try {
      out.push(...(await d.detect(content)));
    } catch (error) {
      out.push({
        label: 'injection',
        category: 'detector-error',
        message: `detector \`${d.name}\` failed (${error instanceof Error ? error.message : String(error)}); the content is treated as an injection because Warden fails closed`,
      });
    }
  }
  return out;
}
