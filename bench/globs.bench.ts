import picomatch from 'picomatch';
import { compileGlob } from '../src/lib/path-glob.js';
import { type BenchRow, microsRow, percentile } from './report.js';

/**
 * Scenario `globs`: path glob matching (`resources.paths`, the `glob` condition, `fs.protected`)
 * with Warden's linear matcher beside picomatch's backtracking RegExp, on the same globs and paths
 * in the same run. Usual globs (one `*` or `**`) run as picomatch's RegExp either way; globs with
 * several stars run on the automaton. The pathological case is timed for Warden only, with
 * picomatch on a path short enough to finish, to show the growth.
 */

const ROUNDS = Number(process.env.BENCH_GLOB_ROUNDS ?? 2000);

function log(line: string): void {
  process.stdout.write(`  [globs] ${line}\n`);
}

const USUAL: Array<[string, string]> = [
  ['/data/research/**', '/data/research/papers/2026/attention.pdf'],
  ['/data/research/**', '/etc/passwd'],
  ['**/.env', '/srv/app/config/.env'],
  ['*.pem', 'server.pem'],
  ['/srv/docs/*.md', '/srv/docs/guide.md'],
];
const STARRED: Array<[string, string]> = [
  ['/data/**/*.md', '/data/research/notes/2026/summary.md'],
  ['**/*test*.ts', '/home/dev/app/src/lib/glob.test.ts'],
  ['/srv/{docs,www}/**/*.{md,html}', '/srv/www/blog/2026/post.html'],
];

/** p50 per call, µs, of each matcher over the pairs, timed alternately. */
function p50(pairs: Array<[string, string]>, make: (glob: string) => (path: string) => boolean): number {
  const compiled = pairs.map(([g, p]) => [make(g), p] as const);
  for (let r = 0; r < 200; r++) for (const [m, p] of compiled) m(p);
  const out: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const [m, p] of compiled) {
      const t0 = process.hrtime.bigint();
      m(p);
      out.push(Number(process.hrtime.bigint() - t0) / 1000);
    }
  }
  return percentile(
    out.sort((a, b) => a - b),
    50,
  );
}

function once(fn: () => unknown): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1000;
}

export async function benchGlobs(): Promise<BenchRow[]> {
  const picomatchOf = (g: string) => picomatch(g, { dot: true });
  const rows: BenchRow[] = [];
  for (const [label, pairs] of [
    ['usual globs (one `*` or `**`)', USUAL],
    ['globs with several stars', STARRED],
  ] as const) {
    const picomatchUs = p50([...pairs], picomatchOf);
    const wardenUs = p50([...pairs], (g) => compileGlob(g));
    log(`${label}: Warden p50 ${wardenUs.toFixed(2)} µs, picomatch ${picomatchUs.toFixed(2)} µs`);
    rows.push(microsRow('globs', `match p50, ${label}`, wardenUs, { name: 'picomatch', value: picomatchUs }));
  }
  // `**/a*a*…*b` (nine stars) against `x/aaa…a` (no `b`): picomatch tries every way to place the
  // stars; it is timed on 24 characters, Warden on 24 and on 5,000.
  const g = '**/a*a*a*a*a*a*a*a*a*b';
  const short = `x/${'a'.repeat(22)}`;
  const long = `x/${'a'.repeat(4998)}`;
  const warden = compileGlob(g);
  const pico = picomatchOf(g);
  warden(short);
  const picoShort = once(() => pico(short));
  const wardenShort = once(() => warden(short));
  const wardenLong = once(() => warden(long));
  log(
    `pathological glob: picomatch ${(picoShort / 1000).toFixed(1)} ms on 24 chars; Warden ${wardenShort.toFixed(0)} µs on 24, ${(wardenLong / 1000).toFixed(1)} ms on 5,000`,
  );
  rows.push(
    microsRow('globs', '`**/a*a*a*a*a*a*a*a*a*b`, 24-char path', wardenShort, {
      name: 'picomatch',
      value: picoShort,
    }),
    microsRow('globs', '`**/a*a*a*a*a*a*a*a*a*b`, 5,000-char path (picomatch: not run)', wardenLong),
  );
  return rows;
}
