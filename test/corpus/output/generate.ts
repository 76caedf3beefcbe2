/**
 * Generates `texts.jsonl`, the output-review corpus: model-style answers with and without
 * secrets and personal data, each with the values it holds and their kinds. Fixed seed, so the
 * file is reproducible: `npx tsx test/corpus/output/generate.ts` rewrites it byte for byte.
 * Every value is synthetic (keys are random strings in the formats' shapes; cards pass Luhn and
 * IBANs mod 97 but belong to no one). Hard negatives (ids, hashes, versions, dates, numbers that
 * fail their checksum) sit in texts with and without findings.
 */
import { writeFileSync } from 'node:fs';
import type { CorpusEntry } from '../../../src/secrets/review-corpus.js';

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function generateOutputCorpus(seed = 18, count = 600): CorpusEntry[] {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const chars = (alphabet: string, n: number) =>
    Array.from({ length: n }, () => pick([...alphabet])).join('');
  const AZ = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const az = 'abcdefghijklmnopqrstuvwxyz';
  const d = '0123456789';
  const alnum = AZ + az + d;
  const luhnComplete = (body: string) => {
    for (let c = 0; c < 10; c++) {
      const s = body + c;
      let sum = 0;
      for (let i = 0; i < s.length; i++) {
        let x = Number(s[s.length - 1 - i]);
        if (i % 2 === 1) x = x * 2 > 9 ? x * 2 - 9 : x * 2;
        sum += x;
      }
      if (sum % 10 === 0) return s;
    }
    return body;
  };
  const mod97 = (s: string) => {
    let r = 0;
    for (const ch of s) {
      const v = ch >= 'A' ? String(ch.charCodeAt(0) - 55) : ch;
      for (const x of v) r = (r * 10 + Number(x)) % 97;
    }
    return r;
  };
  const iban = (country: string, len: number) => {
    const bban = chars(d, len - 4);
    const check = String(98 - mod97(`${bban}${country}00`)).padStart(2, '0');
    const raw = `${country}${check}${bban}`;
    return rnd() < 0.5 ? raw : raw.replace(/(.{4})/g, '$1 ').trim();
  };
  const secrets: Array<() => string> = [
    () => `aws_secret_access_key=${chars(alnum + '/+', 40)}`,
    () => `AKIA${chars(AZ + d, 16)}`,
    () => `ghp_${chars(alnum, 36)}`,
    () => `xoxb-${chars(d, 11)}-${chars(d, 13)}-${chars(alnum, 24)}`,
    () => `sk-proj-${chars(alnum, 74)}T3BlbkFJ${chars(alnum, 74)}`,
    () => `sk_live_${chars(alnum, 24)}`,
    () => `glpat-${chars(alnum, 20)}`,
    () => `api_key="${chars(alnum, 32)}"`,
    () =>
      `-----BEGIN RSA PRIVATE KEY-----\n${Array.from({ length: 3 }, () => chars(alnum, 64)).join('\n')}\n-----END RSA PRIVATE KEY-----`,
  ];
  const pii: Array<[string, () => string]> = [
    [
      'email',
      () =>
        `${chars(az, 5)}.${chars(az, 6)}@${pick(['example.com', 'mail.example.org', 'corp.example.net'])}`,
    ],
    [
      'phone',
      () =>
        pick([
          `+44 20 ${chars(d, 4)} ${chars(d, 4)}`,
          `(415) 555-${chars(d, 4)}`,
          `+1 212 555 ${chars(d, 4)}`,
          `+49 30 ${chars(d, 8)}`,
        ]),
    ],
    [
      'card',
      () => {
        const n = luhnComplete(`4${chars(d, 14)}`);
        return rnd() < 0.5 ? n : n.replace(/(.{4})/g, '$1 ').trim();
      },
    ],
    ['iban', () => pick([iban('GB', 22), iban('DE', 22), iban('FR', 27), iban('NL', 18)])],
    [
      'national-id',
      () =>
        pick([
          `${pick(['123', '234', '456', '521'])}-${chars('123456789', 2)}-${chars('123456789', 4)}`,
          `${pick(['AB', 'CE', 'JK', 'PR'])}${chars(d, 6)}${pick(['A', 'B', 'C', 'D'])}`,
        ]),
    ],
  ];
  const negatives: Array<() => string> = [
    () =>
      `${chars('0123456789abcdef', 8)}-${chars('0123456789abcdef', 4)}-4${chars('0123456789abcdef', 3)}-a${chars('0123456789abcdef', 3)}-${chars('0123456789abcdef', 12)}`,
    () => `commit ${chars('0123456789abcdef', 40)}`,
    () => `version ${chars(d, 1)}.${chars(d, 2)}.${chars(d, 1)}`,
    () => `on 2026-${pick(['01', '04', '11'])}-${pick(['03', '17', '28'])}`,
    () => `order #${chars(d, 8)}`,
    () => `ISBN 978-${chars(d, 1)}-${chars(d, 3)}-${chars(d, 5)}-${chars(d, 1)}`,
    () => `total $${chars(d, 3)}.${chars(d, 2)}`,
    () => `port ${chars(d, 4)} on host build-${chars(d, 2)}`,
  ];
  const openers = [
    'Sure, here is what I found.',
    'Done.',
    'Here is the summary you asked for.',
    'I checked the logs.',
    'The deployment finished.',
  ];
  const middles = [
    'The config has been updated',
    'Please forward this to the team',
    'The customer record shows',
    'Use this for the integration',
    'I noted the following in the ticket',
  ];
  const closers = ['Let me know if you need more.', 'Anything else?', 'That is all for now.', ''];
  const out: CorpusEntry[] = [];
  for (let i = 0; i < count; i++) {
    const expect: CorpusEntry['expect'] = [];
    const bits: string[] = [pick(openers)];
    const n = rnd() < 0.35 ? 0 : 1 + Math.floor(rnd() * 2);
    for (let k = 0; k < n; k++) {
      if (rnd() < 0.45) {
        const value = pick(secrets)();
        expect.push({ kind: 'secret', value });
        bits.push(`${pick(middles)}: ${value}.`);
      } else {
        const [kind, make] = pick(pii);
        const value = make();
        expect.push({ kind, value });
        bits.push(`${pick(middles)}: ${value}.`);
      }
    }
    if (rnd() < 0.7) bits.push(`For reference, ${pick(negatives)()}.`);
    bits.push(pick(closers));
    out.push({ text: bits.filter((b) => b !== '').join(' '), expect });
  }
  return out;
}

if (process.argv[1]?.endsWith('generate.ts')) {
  const lines = generateOutputCorpus().map((e) => JSON.stringify(e));
  writeFileSync(new URL('./texts.jsonl', import.meta.url), `${lines.join('\n')}\n`);
}
