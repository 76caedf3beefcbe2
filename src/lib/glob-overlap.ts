/**
 * Whether two glob segments (no `/`) can match a common name: `*`, `?`, `[…]` (with `!`/`^`
 * negation and ranges) and `\` escapes, compared case-insensitively. Used to tell whether a shell
 * word such as `.en?` or `*.p[e]m` could expand to a protected name such as `.env` or `*.pem`.
 *
 * The question is answered exactly, on the product of the two patterns: a state is a position in
 * each, `*` may match nothing or one more character, and a character may be consumed when some
 * character fits both tokens. With `shellDot`, a word starting with a wildcard cannot match a
 * leading `.` (bash without `dotglob`); with `patternStarsSkipDots`, a `*` of the pattern stands for
 * a run without dots (`id_rsa*` for `id_rsa`, `id_rsa_old`, not `id_rsa.ts`). Patterns this does not understand (extglobs, braces)
 * answer `true`: when in doubt, the two overlap.
 *
 * @example
 * globsOverlap('.en?', '.env') // true
 * globsOverlap('*.ts', '*.pem') // false
 * globsOverlap('*', '.env', { shellDot: true }) // false
 */
export function globsOverlap(
  word: string,
  pattern: string,
  options: { shellDot?: boolean; patternStarsSkipDots?: boolean } = {},
): boolean {
  const a = tokens(word);
  const b = tokens(pattern);
  if (!a || !b) return true;
  const noLeadingDot = options.shellDot === true && a[0] !== undefined && a[0].kind !== 'char';
  const alphabet = alphabetOf([...a, ...b]);
  const seen = new Set<number>();
  const width = b.length + 1;
  // [word position, pattern position, 1 once a character has been consumed]
  const stack: Array<[number, number, number]> = [[0, 0, 0]];
  while (stack.length > 0) {
    const [i, j, started] = stack.pop() as [number, number, number];
    const key = (i * width + j) * 2 + started;
    if (seen.has(key)) continue;
    seen.add(key);
    if (i === a.length && j === b.length) return true;
    const ta = a[i];
    const tb = b[j];
    if (ta?.kind === 'star') stack.push([i + 1, j, started]);
    if (tb?.kind === 'star') stack.push([i, j + 1, started]);
    if (!ta || !tb) continue;
    if (ta.kind === 'star' && tb.kind === 'star') {
      // Both may eat the same ordinary character: only useful to get past the leading-dot rule.
      if (started === 0) stack.push([i, j, 1]);
      continue;
    }
    const first = noLeadingDot && started === 0;
    const noDot = first || (options.patternStarsSkipDots === true && tb.kind === 'star');
    if (alphabet.some((c) => !(noDot && c === '.') && accepts(ta, c) && accepts(tb, c)))
      stack.push([ta.kind === 'star' ? i : i + 1, tb.kind === 'star' ? j : j + 1, 1]);
  }
  return false;
}

/** Whether `text` has an unescaped glob character (`*`, `?`, `[`). */
export function hasGlob(text: string): boolean {
  return /(?<!\\)[*?[]/.test(text);
}

type Token =
  | { kind: 'char'; c: string }
  | { kind: 'any' }
  | { kind: 'star' }
  | { kind: 'set'; negated: boolean; chars: string[]; ranges: Array<[number, number]> };

function tokens(glob: string): Token[] | undefined {
  if (/[{}]|[@!+*?]\(/.test(glob)) return undefined;
  const out: Token[] = [];
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i] as string;
    if (ch === '\\' && i + 1 < glob.length)
      out.push({ kind: 'char', c: (glob[++i] as string).toLowerCase() });
    else if (ch === '*') {
      if (out.at(-1)?.kind !== 'star') out.push({ kind: 'star' });
    } else if (ch === '?') out.push({ kind: 'any' });
    else if (ch === '[') {
      const close = glob.indexOf(']', i + 2);
      if (close < 0) {
        out.push({ kind: 'char', c: '[' });
        continue;
      }
      let body = glob.slice(i + 1, close);
      const negated = body.startsWith('!') || body.startsWith('^');
      if (negated) body = body.slice(1);
      const chars: string[] = [];
      const ranges: Array<[number, number]> = [];
      for (let k = 0; k < body.length; k++) {
        const lo = body[k] as string;
        if (body[k + 1] === '-' && k + 2 < body.length) {
          ranges.push([lo.codePointAt(0) ?? 0, body.codePointAt(k + 2) ?? 0]);
          k += 2;
        } else chars.push(lo.toLowerCase());
      }
      out.push({ kind: 'set', negated, chars, ranges });
      i = close;
    } else out.push({ kind: 'char', c: ch.toLowerCase() });
  }
  return out;
}

/** Every character either pattern names (both cases), the ends of ranges, and one stranger. */
function alphabetOf(all: Token[]): string[] {
  const chars = new Set<string>(['\u0001', '.', 'a', '0']);
  for (const t of all) {
    if (t.kind === 'char') chars.add(t.c);
    if (t.kind === 'set') {
      for (const c of t.chars) chars.add(c);
      for (const [lo, hi] of t.ranges) {
        // Small ranges are listed whole; a huge one by its ends and middle (enough to meet a literal).
        if (hi - lo <= 256) for (let c = lo; c <= hi; c++) chars.add(String.fromCodePoint(c).toLowerCase());
        else for (const c of [lo, hi, (lo + hi) >> 1]) chars.add(String.fromCodePoint(c).toLowerCase());
      }
    }
  }
  return [...chars];
}

function accepts(t: Token, c: string): boolean {
  switch (t.kind) {
    case 'star':
    case 'any':
      return true;
    case 'char':
      return t.c === c;
    case 'set': {
      const variants = [c, c.toUpperCase()];
      const inside = variants.some(
        (v) =>
          t.chars.includes(v.toLowerCase()) ||
          t.ranges.some(([lo, hi]) => {
            const code = v.codePointAt(0) ?? 0;
            return code >= lo && code <= hi;
          }),
      );
      return t.negated ? !inside : inside;
    }
  }
}
