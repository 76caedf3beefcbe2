import type { ContentFinding } from '../contract/observation.js';

/**
 * Well-known secret formats that label a session `secret` when they enter its context: the
 * agent has seen a credential, so sending data out of that session is riskier. A cheap first
 * pass with distinctive prefixes (few false positives), not a full scanner.
 */
const SECRET_FORMATS: readonly [string, RegExp][] = [
  ['private-key', /-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY( BLOCK)?-----/],
  ['aws-access-key', /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/],
  ['github-token', /\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{60,}/],
  ['slack-token', /\bxox[abposr]-[A-Za-z0-9-]{10,}/],
  ['openai-key', /\bsk-(?:proj-)?[A-Za-z0-9_-]{32,}/],
  ['stripe-key', /\b(?:sk|rk)_live_[A-Za-z0-9]{20,}/],
  ['google-api-key', /\bAIza[0-9A-Za-z_-]{35}\b/],
  ['jwt', /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/],
];

export function secretFindings(content: string): ContentFinding[] {
  const out: ContentFinding[] = [];
  for (const [category, pattern] of SECRET_FORMATS) {
    if (pattern.test(content))
      out.push({ label: 'secret', category, message: `a secret (${category}) was in the content` });
  }
  return out;
}
