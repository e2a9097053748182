/** Number helpers of the scripts and tests: sums, medians, percentiles and their formatting for reports. */
export const sum = (xs: Iterable<number>): number => {
  let total = 0;
  for (const x of xs) total += x;
  return total;
};
export const fmt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "—");
export const fixed = (n: number | null | undefined, digits = 1): string =>
  n === null || n === undefined || !Number.isFinite(n) ? "—" : n.toFixed(digits);

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile of an ascending-sorted array (p in 0..100). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1]!;
}

/** Median of the middle 50% of a series (by time): the "steady" level once start-up and the tail are cut off. */
export function steady(series: readonly number[]): number {
  if (series.length < 4) return median(series);
  return median(series.slice(Math.floor(series.length / 4), Math.ceil((series.length * 3) / 4)));
}
