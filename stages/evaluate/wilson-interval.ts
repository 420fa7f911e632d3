/**
 * The Wilson score interval for a proportion: unlike the normal approximation it stays inside
 * [0, 1] and behaves at 0 or n successes, which matters for small per-kind breakdowns.
 */
export interface ProportionInterval {
  low: number;
  high: number;
}

/** z for a two-sided 95% interval. */
export const Z_95 = 1.959963984540054;

export function wilsonInterval(successes: number, n: number, z = Z_95): ProportionInterval {
  if (n === 0) return { low: 0, high: 1 };
  const p = successes / n;
  const z2 = z * z;
  const denominator = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denominator;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denominator;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
