/**
 * Personal data in generated text: emails, phone numbers, payment card numbers (Luhn-checked),
 * IBANs (mod-97-checked) and national ids (US SSN, UK NINO). No maintained package for these is
 * installed here (validator.js or ibantools, libphonenumber-js would be the choice), so each
 * pattern is a candidate and a checksum or structural check confirms it.
 */

export type PiiKind = 'email' | 'phone' | 'card' | 'iban' | 'national-id';

export interface PiiHit {
  kind: PiiKind;
  /** `email`, `phone`, `card`, `iban`, `us-ssn`, `uk-nino`. */
  rule: string;
  start: number;
  end: number;
  value: string;
}

const EMAIL = /\b[A-Za-z0-9._%+-]{1,64}@(?:[A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,24}\b/g;
/** International (`+44 20 7946 0958`) or North American (`(415) 555-0132`, `415-555-0132`). */
const PHONE =
  /(?<![\w+])(?:\+[1-9]\d{0,2}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,4}|\(\d{3}\)[ .-]?\d{3}[ .-]\d{4}|\b\d{3}[.-]\d{3}[.-]\d{4})(?![\w-])/g;
const CARD = /\b\d(?:[ -]?\d){12,18}\b/g;
const IBAN = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b/g;
const SSN = /\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b/g;
const NINO = /\b(?![DFIQUV])[A-CEGHJ-PR-TW-Z](?![DFIOQUV])[A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b/g;

/** The Luhn checksum of a string of digits (card numbers). */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** ISO 13616 check: move the first four characters to the end, letters to numbers, mod 97 = 1. */
export function ibanValid(raw: string): boolean {
  const iban = raw.replaceAll(' ', '').toUpperCase();
  if (iban.length < 15 || iban.length > 34) return false;
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const c of moved) {
    const code = c.charCodeAt(0);
    const value = code >= 65 ? String(code - 55) : c;
    for (const d of value) rest = (rest * 10 + (d.charCodeAt(0) - 48)) % 97;
  }
  return rest === 1;
}

function matches(
  text: string,
  re: RegExp,
  kind: PiiKind,
  rule: string,
  ok?: (v: string) => boolean,
): PiiHit[] {
  const out: PiiHit[] = [];
  for (const m of text.matchAll(re)) {
    const value = m[0];
    if (ok && !ok(value)) continue;
    const start = m.index ?? 0;
    out.push({ kind, rule, start, end: start + value.length, value });
  }
  return out;
}

/**
 * A card number: a network's leading digit (2–6), 13–19 digits, written whole or in the groups
 * cards print (4-4-4-4, Amex 4-6-5), passing Luhn. The grouping keeps ISBNs and references out.
 */
function cardLike(value: string): boolean {
  const digits = value.replace(/\D/g, '');
  if (!/^[2-6]/.test(digits)) return false;
  const grouped =
    /^\d+$/.test(value) ||
    /^\d{4}(?:([ -])\d{4}(?:\1\d{4}){1,2}(?:\1\d{1,3})?|([ -])\d{6}\2\d{4,5})$/.test(value);
  return grouped && luhnValid(digits);
}

function phoneDigits(value: string): boolean {
  const n = value.replace(/\D/g, '').length;
  return n >= 8 && n <= 15;
}

/** Every piece of personal data in `text`, ordered by position, overlaps resolved in favour of the checked kinds. */
export function findPii(text: string): PiiHit[] {
  const checked = [
    ...matches(text, CARD, 'card', 'card', cardLike),
    ...matches(text, IBAN, 'iban', 'iban', ibanValid),
    ...matches(text, SSN, 'national-id', 'us-ssn'),
    ...matches(text, NINO, 'national-id', 'uk-nino'),
    ...matches(text, EMAIL, 'email', 'email'),
  ];
  const phones = matches(text, PHONE, 'phone', 'phone', phoneDigits).filter(
    (p) => !checked.some((c) => p.start < c.end && c.start < p.end),
  );
  return [...checked, ...phones].sort((a, b) => a.start - b.start);
}
