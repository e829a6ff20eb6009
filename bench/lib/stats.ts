/** Small statistics and formatting helpers shared by the benchmarks. */

/** Median (upper median for an even count); NaN for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Least-squares slope of y over x (units of y per unit of x); 0 for fewer than two points. */
export function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i]!;
    sy += ys[i]!;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dx = xs[i]! - mx;
    num += dx * (ys[i]! - my);
    den += dx * dx;
  }
  return den === 0 ? 0 : num / den;
}

/** 5.31 M / 22.4 k / 950 */
export function fmtRate(rate: number): string {
  if (!Number.isFinite(rate)) return 'n/a';
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(2)} M`;
  if (rate >= 1e4) return `${(rate / 1e3).toFixed(1)} k`;
  return rate.toFixed(0);
}

/** Milliseconds with a precision that suits the size. */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return 'n/a';
  if (ms < 1) return ms.toFixed(3);
  if (ms < 100) return ms.toFixed(2);
  return ms.toFixed(0);
}

/** Bytes as MB (10^6) with one decimal. */
export function fmtMB(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/** A percentage with one decimal. */
export function fmtPct(fraction: number): string {
  return `${(fraction * 100).toFixed(1)} %`;
}
