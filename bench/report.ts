/** One line of `npm run bench`: a figure beside its baseline measured in the same run. */
export interface BenchRow {
  scenario: string;
  metric: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  /** Human text of the target, e.g. `≤ 5 µs` or `≥ 40× Cedar`. */
  target?: string;
  /** Whether the target holds in this run. */
  met?: boolean;
}

/** A row of `scenario` in µs (the common case), with the optional parts only when given. */
export function microsRow(
  scenario: string,
  metric: string,
  value: number,
  baseline?: { name: string; value: number },
  target?: string,
  met?: boolean,
): BenchRow {
  return {
    scenario,
    metric,
    value,
    unit: 'µs',
    ...(baseline ? { baseline } : {}),
    ...(target ? { target } : {}),
    ...(met === undefined ? {} : { met }),
  };
}

/** Actions/s with `inFlight` callers each awaiting one action after another. */
export async function rate(
  total: number,
  inFlight: number,
  one: (i: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) await one(next++);
    }),
  );
  return total / ((performance.now() - started) / 1000);
}

/** Percentile of sorted numbers (nearest rank). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function formatRows(rows: readonly BenchRow[]): string {
  const lines = rows.map((r) => {
    const base = r.baseline ? `${r.baseline.name} ${fmt(r.baseline.value)} ${r.unit}` : '';
    const ratio = r.baseline && r.baseline.value > 0 ? `${fmt(r.value / r.baseline.value)}×` : '';
    const verdict = r.met === undefined ? '' : r.met ? 'met' : 'MISSED';
    return [r.scenario, r.metric, `${fmt(r.value)} ${r.unit}`, base, ratio, r.target ?? '', verdict];
  });
  const header = ['scenario', 'metric', 'value', 'baseline (same run)', 'ratio', 'target', ''];
  const all = [header, ...lines];
  const widths = header.map((_, i) => Math.max(...all.map((l) => (l[i] ?? '').length)));
  return all
    .map((l) =>
      l
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}
