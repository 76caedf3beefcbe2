import { createHash } from 'node:crypto';

/** A found value to take out of a text: where it is and the rule that found it. */
export interface Span {
  rule: string;
  start: number;
  end: number;
  value: string;
}

/** The first 12 hex digits of the SHA-256 of a value: enough to tell two values apart, not to recover one. */
export function valueHash(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 12);
}

/** What replaces a value: `[REDACTED:aws:1f2e3d4c5b6a]`, the rule that found it and its hash. */
export function marker(rule: string, value: string): string {
  return `[REDACTED:${rule}:${valueHash(value)}]`;
}

/** `text` with every span (sorted, not overlapping) replaced by its {@link marker}. */
export function replaceSpans(text: string, spans: readonly Span[]): string {
  if (spans.length === 0) return text;
  let out = '';
  let at = 0;
  for (const s of spans) {
    if (s.start < at) continue;
    out += text.slice(at, s.start) + marker(s.rule, s.value);
    at = s.end;
  }
  return out + text.slice(at);
}
