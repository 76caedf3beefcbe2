import { type RuleHit, SecretlintRules } from './secretlint-rules.js';

/** A secret found in a text: which rule, where, and the value itself (never to be logged). */
export interface SecretHit {
  /** `aws`, `github`, `privatekey`, … (secretlint's rule names), `stripe`, `google-api-key`, `jwt`, or `entropy`. */
  rule: string;
  /** The rule's own name for what it found (`AWSSecretAccessKey`, `GITHUB_TOKEN`, `high-entropy`). */
  detail: string;
  start: number;
  end: number;
  value: string;
}

/**
 * Formats the recommended secretlint preset has no rule for. Kept to distinctive prefixes so
 * they stay free of false positives; the rest comes from the maintained rule set.
 */
const SUPPLEMENT: ReadonlyArray<readonly [string, RegExp]> = [
  ['stripe', /\b(?:sk|rk)_live_[A-Za-z0-9]{20,}/g],
  // secretlint's rule wants a 100-character body; a short or cut-off key is still a key.
  ['privatekey', /-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----/g],
  ['google-api-key', /\bAIza[0-9A-Za-z_-]{35}\b/g],
  ['jwt', /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g],
  ['openai', /\bsk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{40,}/g],
  ['anthropic', /\bsk-ant-[a-z0-9]{2,8}-[A-Za-z0-9_-]{40,}/g],
];

/**
 * A value given to a secret-named key (`api_key=`, `"token": "`, `password:`) that looks random:
 * at least 16 characters of a token alphabet, letters and digits mixed, Shannon entropy of at
 * least 3.5 bits a character. The key name is what keeps hashes and ids in prose out.
 * (Letters of both cases count as mixed: a random 32-letter key has no digit a third of the time.)
 */
const KEYED_VALUE =
  /\b(?:[a-z0-9]+[_-])*(?:api[_-]?key|apikey|secret|token|passw(?:or)?d|pwd|access[_-]?key|private[_-]?key|client[_-]?secret|auth)["']?\s*(?::|=|=>)\s*["']?([A-Za-z0-9+/_.~=-]{16,200})/gi;
const MIN_ENTROPY = 3.5;

/** Where a token ends: the rule's range may stop short of the value (secretlint's AWS rule does). */
const DELIMITER = /[\s"'&,;<>(){}[\]`]/;

/**
 * The clean-text memo of {@link SecretScanner}: texts up to this long, and at most this many
 * characters in all (≤ 4 MB) or this many texts. Bounded by characters rather than by a small
 * count: a working set just over the count (5,000 paths against 4,096 entries) would empty it
 * before any text came round again, and every text would be scanned in full.
 */
const MEMO_MAX_CHARS = 1024;
const MEMO_MAX_TOTAL_CHARS = 4_000_000;
const MEMO_MAX_ENTRIES = 65_536;

const PEM_END = /-----END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----/;

const NO_HITS: readonly SecretHit[] = Object.freeze([]);
/** How many texts (of at most RECENT_MAX_CHARS each) the recent memo keeps. */
const RECENT_ENTRIES = 8;
const RECENT_MAX_CHARS = 1 << 20;

/** The shape of an id `newActionId` makes. */
const ACTION_ID = /^act_[0-9a-f]{32}$/;

/** Bits of Shannon entropy per character of `s`. */
export function entropy(s: string): number {
  const counts = new Map<string, number>();
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

function looksRandom(value: string): boolean {
  const mixed =
    (/[0-9]/.test(value) && /[A-Za-z]/.test(value)) || (/[a-z]/.test(value) && /[A-Z]/.test(value));
  return mixed && entropy(value) >= MIN_ENTROPY;
}

/**
 * Finds secrets in text: secretlint's recommended rules (run synchronously, see
 * {@link SecretlintRules}), a few formats they lack, and random-looking values given to
 * secret-named keys. Overlapping hits are merged, the first rule to find a place naming it.
 *
 * @example
 * new SecretScanner().scan('aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCY0123456789')
 * // → [{ rule: 'aws', detail: 'AWSSecretAccessKey', start: 0, end: 62, value: 'aws_secret_…' }]
 */
export class SecretScanner {
  private readonly rules = new SecretlintRules();
  /**
   * Short texts already scanned and found clean. Audit entries repeat the same descriptions,
   * reasons, names and sessions on every action, and each entry is scanned before it is stored:
   * remembering them takes the scanner off the gateway's hot path. Bounded; cleared when full.
   */
  readonly #clean = new Set<string>();
  #cleanChars = 0;
  /**
   * The last texts scanned that the clean memo does not keep (long ones, or ones with secrets),
   * with their hits: one tool result is scanned by output review, by the audit's redaction of
   * its result record and by the taint of its observation, one after another.
   */
  readonly #recent = new Map<string, readonly SecretHit[]>();

  scan(text: string): SecretHit[] {
    const found = this.find(text);
    return found === NO_HITS ? [] : [...found];
  }

  /**
   * {@link scan} for callers that only read the hits: a clean text (every string of every audit
   * record, nearly always) returns one shared empty array instead of a new one.
   */
  find(text: string): readonly SecretHit[] {
    if (text.length < 8) return NO_HITS;
    // Warden's own action ids, one in every decision record and never the same twice (so before
    // the memo, which would only miss): no rule matches `act_` and 32 lowercase hex digits
    // (detect.test.ts runs the rules on generated ids).
    if (text.length === 36 && ACTION_ID.test(text)) return NO_HITS;
    const remember = text.length <= MEMO_MAX_CHARS;
    if (remember && this.#clean.has(text)) return NO_HITS;
    const recent = this.#recent.get(text);
    if (recent) return recent;
    const hits: RuleHit[] = this.rules.scan(text);
    for (const [rule, pattern] of SUPPLEMENT) {
      for (const m of text.matchAll(pattern)) {
        const start = m.index ?? 0;
        hits.push({ rule, detail: rule, start, end: start + m[0].length });
      }
    }
    for (const m of text.matchAll(KEYED_VALUE)) {
      const value = m[1] ?? '';
      if (!looksRandom(value)) continue;
      const end = (m.index ?? 0) + m[0].length;
      hits.push({ rule: 'entropy', detail: 'high-entropy', start: end - value.length, end });
    }
    const found = merge(text, hits);
    if (remember && found.length === 0) {
      if (this.#clean.size >= MEMO_MAX_ENTRIES || this.#cleanChars + text.length > MEMO_MAX_TOTAL_CHARS) {
        this.#clean.clear();
        this.#cleanChars = 0;
      }
      this.#clean.add(text);
      this.#cleanChars += text.length;
    } else if (text.length <= RECENT_MAX_CHARS) {
      if (this.#recent.size >= RECENT_ENTRIES)
        this.#recent.delete(this.#recent.keys().next().value as string);
      this.#recent.set(text, Object.freeze(found.map((h) => Object.freeze(h))));
    }
    return found;
  }

  /** Whether `text` holds any secret: the same rules, for callers that need only a yes or no. */
  has(text: string): boolean {
    return this.find(text).length > 0;
  }
}

/** Extends each hit to the end of its token, then drops hits inside an earlier one. */
function merge(text: string, hits: RuleHit[]): SecretHit[] {
  const spans = hits.map((h) => {
    let end = Math.min(h.end, text.length);
    // A PEM block runs to its END line, whatever range the rule reported.
    const pemEnd = h.rule === 'privatekey' ? PEM_END.exec(text.slice(h.start)) : null;
    if (pemEnd) return { ...h, end: h.start + pemEnd.index + pemEnd[0].length };
    while (end < text.length && !DELIMITER.test(text[end] as string)) end++;
    return { ...h, end };
  });
  spans.sort((a, b) => a.start - b.start || b.end - a.end);
  const out: SecretHit[] = [];
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last && s.start < last.end) {
      // A maintained rule beats the entropy check for naming the place.
      if (last.rule === 'entropy' && s.rule !== 'entropy')
        Object.assign(last, { rule: s.rule, detail: s.detail });
      if (s.end > last.end) Object.assign(last, { end: s.end, value: text.slice(last.start, s.end) });
      continue;
    }
    out.push({
      rule: s.rule,
      detail: s.detail,
      start: s.start,
      end: s.end,
      value: text.slice(s.start, s.end),
    });
  }
  return out;
}

let shared: SecretScanner | undefined;

/** The process's scanner: the rules are created once and shared (they keep no state between scans). */
export function secretScanner(): SecretScanner {
  shared ??= new SecretScanner();
  return shared;
}
