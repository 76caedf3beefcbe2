import type { ContentFinding } from '../contract/observation.js';
import type { Detector } from './detector.js';
import { secretFindings } from './secrets.js';

/**
 * The built-in detector: patterns for the classes of instruction-like content that indirect
 * prompt injections use, and well-known secret formats. Measured on the shipped corpus
 * (`test/corpus/injection/`, figures in `npm run bench detector`), not claimed: it catches the
 * phrasings it knows and misses an instruction written as an ordinary request.
 *
 * Checks, in order: invisible Unicode (tag characters, zero-width runs, bidi overrides), whose
 * hidden text is decoded and checked too; override attempts; role play; hidden instructions
 * (markup comments, hidden elements, fake chat delimiters, notes addressed to an AI); tool-call
 * syntax; data-URL and markdown-image exfiltration; encoded instructions (base64 that decodes
 * to one of the above).
 *
 * INVARIANT: every pattern is linear-time: bounded repetitions over classes, no nested
 * quantifiers, so content an attacker writes cannot stall the event loop.
 */
export function patternDetector(): Detector {
  return {
    name: 'patterns',
    detect: function detectPatterns(content) {
      const out: ContentFinding[] = [];
      const hidden = invisibleText(content);
      if (hidden.found) out.push(finding('invisible-unicode', hidden.found));
      const text = hidden.decoded ? `${content}\n${hidden.decoded}` : content;
      for (const [category, patterns, message] of TEXT_CLASSES) {
        if (patterns.some((p) => p.test(text))) out.push(finding(category, message));
      }
      if (!out.some((f) => f.category === 'override' || f.category === 'role-play')) {
        const decoded = encodedInstruction(content);
        if (decoded) out.push(finding('encoded', decoded));
      }
      out.push(...secretFindings(content));
      return out;
    },
  };
}

function finding(category: string, message: string): ContentFinding {
  return { label: 'injection', category, message };
}

const AI = '(?:ai|a\\.i\\.|assistant|agent|llm|language model|model|chatbot|bot|copilot|gpt|claude)';
const PRIOR =
  '(?:previous|prior|above|earlier|preceding|original|initial|former|all|any|your|the|these|those)';
const RULES =
  '(?:instructions?|directions?|directives?|prompts?|rules|guidelines|guardrails|constraints|system prompt|programming|orders|policies|safety)';
const rx = (s: string) => new RegExp(s, 'iu');

const OVERRIDE = [
  rx(
    `\\b(?:ignore|disregard|forget|override|bypass|skip|drop|abandon|discard)\\s+(?:all\\s+|any\\s+|of\\s+)?(?:${PRIOR}\\s+){1,3}${RULES}`,
  ),
  rx(
    `\\b(?:ignore|disregard|forget)\\s+(?:everything|anything)\\s+(?:you\\s+(?:were|have\\s+been)\\s+told|(?:said\\s+)?(?:above|before|previously))`,
  ),
  rx(
    `\\b(?:new|updated|revised|real|actual|true|secret)\\s+(?:${RULES}|task|objective|goal|mission)\\s*(?:[:\\-]|(?:is|are)\\b)`,
  ),
  rx(
    `\\byour\\s+(?:new|real|actual|true|only|primary)\\s+(?:task|goal|objective|job|purpose|mission|instructions?)\\s+(?:is|are|now)\\b`,
  ),
  rx(
    `\\b(?:do\\s+not|don'?t|never)\\s+(?:tell|inform|alert|notify|mention\\s+(?:this\\s+)?to|let)\\s+(?:the\\s+)?(?:user|human|operator|owner|anyone)`,
  ),
  rx(
    `\\b(?:instead|now),?\\s+(?:you\\s+(?:must|should|will|need\\s+to)|immediately)\\s+(?:send|forward|email|transfer|upload|post|delete|run|execute|pay|wire|export|leak|reveal)`,
  ),
  rx(`\\b(?:system|admin|administrator|developer|security)\\s+(?:override|instructions?|command)\\s*[:!]`),
  rx(
    `\\bthis\\s+(?:is\\s+)?(?:an?\\s+)?(?:urgent\\s+)?(?:instruction|command|order)\\s+(?:for|to)\\s+(?:the\\s+|any\\s+)?${AI}`,
  ),
];

const ROLE_PLAY = [
  rx(
    `\\byou\\s+are\\s+now\\s+(?:an?\\s+|in\\s+)?(?:dan\\b|unrestricted|unfiltered|jailbroken|evil|rogue|uncensored|free\\s+(?:from|of)|developer\\s+mode|god\\s+mode|(?:a\\s+)?(?:different|new)\\s+${AI})`,
  ),
  rx(
    `\\byou\\s+are\\s+no\\s+longer\\s+(?:an?\\s+)?(?:${AI}|bound|restricted|limited|required|an?\\s+assistant)`,
  ),
  rx(
    `\\b(?:from\\s+now\\s+on|henceforth|for\\s+the\\s+rest\\s+of\\s+(?:this|the)\\s+conversation),?\\s+(?:you|act|respond|behave|pretend)`,
  ),
  rx(
    `\\b(?:pretend|imagine)\\s+(?:that\\s+)?(?:you\\s+are|you're|to\\s+be)\\s+(?:a|an|the|my)?\\s*(?:unrestricted|unfiltered|evil|different|new|rogue|hacker|admin|developer|${AI})`,
  ),
  rx(
    `\\b(?:enter|enable|activate|switch\\s+to)\\s+(?:developer|dan|god|debug|jailbreak|admin|unrestricted|sudo)\\s+mode\\b`,
  ),
  rx(
    `\\bact\\s+as\\s+(?:if\\s+you\\s+(?:were|are)\\s+)?(?:an?\\s+)?(?:unrestricted|unfiltered|jailbroken|rogue|evil|dan\\b|system\\s+administrator\\s+with)`,
  ),
  rx(`\\b(?:roleplay|role-play|role\\s+play)\\s+as\\b`),
];

const HIDDEN = [
  rx(`<!--[^>]{0,400}\\b(?:${AI}|instructions?|ignore|must|send|forward)\\b`),
  rx(
    `<[a-z]+[^>]{0,200}(?:display\\s*:\\s*none|visibility\\s*:\\s*hidden|font-size\\s*:\\s*0|color\\s*:\\s*(?:white|#fff(?:fff)?\\b)|opacity\\s*:\\s*0\\b)[^>]{0,200}>[^<]{0,400}\\b(?:${AI}|ignore|instructions?|must|send|forward)\\b`,
  ),
  rx(
    `(?:<\\|im_start\\|>|<\\|im_end\\|>|<\\|system\\|>|<\\|assistant\\|>|\\[/?inst\\]|<<\\s*sys\\s*>>|<\\/?system>|<\\/?sys>)`,
  ),
  rx(
    `(?:^|\\n)\\s*(?:#{1,4}\\s*)?(?:system|assistant)\\s*(?:message|prompt)?\\s*:\\s*(?:you|ignore|from|new|the\\s+user)`,
  ),
  rx(
    `\\b(?:note|message|attention|instructions?|important|reminder|p\\.?s\\.?)\\s+(?:to|for)\\s+(?:the\\s+|any\\s+|all\\s+)?${AI}s?\\b`,
  ),
  rx(
    `\\b(?:if\\s+you\\s+are\\s+(?:an?\\s+)?${AI}|${AI}s?\\s+(?:reading|processing|summari[sz]ing|parsing)\\s+this)`,
  ),
  rx(`\\bdear\\s+${AI}\\b`),
];

const TOOL_CALL = [
  rx(
    `[{,]\\s*"(?:name|tool|function|tool_name|recipient_name)"\\s*:\\s*"[\\w.:-]{1,80}"\\s*,\\s*"(?:arguments|args|parameters|input|params)"\\s*:`,
  ),
  rx(`<\\/?(?:tool_call|tool_use|function_call|function_calls|invoke|antml:invoke|tool)\\b`),
  rx(
    `\\b(?:call|use|invoke|run|execute|trigger)\\s+(?:the\\s+)?[\`"']?[a-z][\\w.-]{1,60}[\`"']?\\s+(?:tool|function|action|plugin)\\s+(?:to|with|and)\\s+(?:send|transfer|pay|email|forward|post|upload|delete|remove|write|wire|share|grant)`,
  ),
  rx(`\\bfunctions\\.[a-z_]\\w{0,60}\\s*\\(`),
  rx(
    `\\b(?:send_email|send_money|transfer_funds|wire_transfer|make_payment|delete_file|run_shell|execute_command|post_message|share_file|grant_access)\\s*\\(`,
  ),
];

const EXFIL = [
  rx(
    `!\\[[^\\]\\n]{0,200}\\]\\(\\s*https?:\\/\\/[^)\\s?]{1,300}\\?(?:[^)\\n]{0,200}[&])?(?:q|d|data|secret|key|token|password|pw|chat|conversation|history|summary|info|content|msg|text|email|c|p|x)=[^)\\n]{0,400}\\)`,
  ),
  rx(`\\bdata:[a-z]+\\/[a-z0-9.+-]+(?:;[a-z0-9=-]+)*;base64,`),
  rx(`<img[^>]{0,200}src\\s*=\\s*["']?https?:\\/\\/[^"'>\\s]{1,300}[?&][^"'>\\s]{1,300}\\{`),
  rx(
    `\\b(?:send|forward|post|upload|email|exfiltrate|leak|append|include|encode|put)\\s+(?:it|them|this|that|everything|all|the|your|any|their)\\b[^\\n]{0,120}\\b(?:to|into|in)\\s+(?:the\\s+)?(?:url|link|image|https?:\\/\\/|[a-z0-9._%+-]{1,64}@[a-z0-9-]{1,63}\\.)`,
  ),
  rx(
    `\\b(?:render|display|show|include)\\s+(?:this|the\\s+following|an?)\\s+(?:image|markdown|link)[^.\\n]{0,80}\\b(?:with|containing|appending|including)\\b`,
  ),
];

const TEXT_CLASSES: readonly [string, readonly RegExp[], string][] = [
  ['override', OVERRIDE, 'an attempt to override the agent’s instructions'],
  ['role-play', ROLE_PLAY, 'an attempt to make the agent play another role'],
  ['hidden', HIDDEN, 'instructions hidden in markup, chat delimiters or a note addressed to an AI'],
  ['tool-call', TOOL_CALL, 'tool-call syntax or an order to call a tool'],
  ['exfil-url', EXFIL, 'a data URL, a markdown image with a query, or an order to send data to a URL'],
];

const TAGS = /[\u{E0000}-\u{E007F}]/gu;
// Zero-width space, word joiner and invisible operators; not the joiners emoji and Indic or
// Persian scripts use (U+200C, U+200D) nor the direction marks of right-to-left text.
const ZERO_WIDTH = /[\u200B\u2060-\u2064\uFEFF]/g;
const BIDI = /[\u202A-\u202E\u2066-\u2069]/;

/** Invisible characters, and the ASCII hidden in Unicode tag characters. */
function invisibleText(content: string): { found?: string; decoded?: string } {
  const tags = content.match(TAGS);
  if (tags && tags.length >= 4) {
    const decoded = tags.map((c) => String.fromCodePoint((c.codePointAt(0) as number) - 0xe0000)).join('');
    return { found: `${tags.length} invisible Unicode tag characters (hidden text)`, decoded };
  }
  const zw = content.match(ZERO_WIDTH);
  if (zw && zw.length >= 8) return { found: `${zw.length} zero-width characters` };
  if (BIDI.test(content))
    return { found: 'bidirectional override characters (text that reads differently than it displays)' };
  return {};
}

const BASE64_RUN = /[A-Za-z0-9+/]{24,}={0,2}/g;
const DECODED_CLASSES = [...OVERRIDE, ...ROLE_PLAY, ...TOOL_CALL, ...EXFIL];
const ORDER_WORDS =
  /\b(?:ignore|instructions|send|forward|transfer|delete|execute|password|exfiltrate|assistant)\b/i;

// Text, not binary: no control characters but whitespace, no undecodable bytes.
const NOT_TEXT = /[\u0000-\u0008\u000E-\u001F\uFFFD]+/g;
const READABLE = /[^\n]{16,}/;

/** Base64 runs that decode to instruction-like text. */
function encodedInstruction(content: string): string | undefined {
  let checked = 0;
  for (const m of content.matchAll(BASE64_RUN)) {
    if (++checked > 200) break;
    // Embedded base64 may start mid-quantum (glued to a prefix): try every alignment.
    for (let skip = 0; skip < 4; skip++) {
      // Bytes before the aligned payload decode to noise: keep the readable runs.
      const text = Buffer.from(m[0].slice(skip), 'base64').toString('utf8').replace(NOT_TEXT, '\n');
      if (!READABLE.test(text)) continue;
      if (DECODED_CLASSES.some((p) => p.test(text)) || ORDER_WORDS.test(text))
        return 'base64 that decodes to instructions';
    }
  }
  return undefined;
}
