/**
 * The scaling-law fit of the evolution experiment: L(N) = a·N^(−α) + c (Kaplan et al.
 * 2020, "Scaling Laws for Neural Language Models", eq. 1.1 with an irreducible term
 * c as in Hoffmann et al. 2022).
 *
 * For a fixed c, log(L − c) = log a − α·log N is a straight line, so a and α follow
 * from ordinary least squares on (log N, log(L − c)). The fit scans c over
 * [0, min L) on a fine grid and keeps the c whose curve has the smallest squared
 * error in L itself. Three parameters from five points is a description of the
 * points, not a law: the report says so.
 *
 * @module
 */

/** A fitted power law with its residual. */
export interface PowerLawFit {
  readonly a: number;
  readonly alpha: number;
  readonly c: number;
  /** Σ (L − fit)² over the points. */
  readonly sse: number;
}

/** a·N^(−α) + c. */
export function powerLaw(fit: Pick<PowerLawFit, 'a' | 'alpha' | 'c'>, n: number): number {
  return fit.a * n ** -fit.alpha + fit.c;
}

/** Least-squares line y = p + q·x. */
function line(xs: readonly number[], ys: readonly number[]): { p: number; q: number } {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const q = sxx === 0 ? 0 : sxy / sxx;
  return { p: my - q * mx, q };
}

/**
 * Fits L(N) = a·N^(−α) + c to points (N, L), N > 0.
 * @param grid number of values of c tried in [0, min L)
 * @throws with fewer than 3 points or a non-positive N or L
 */
export function fitPowerLaw(points: readonly (readonly [number, number])[], grid = 2000): PowerLawFit {
  if (points.length < 3) throw new Error(`fitPowerLaw: need at least 3 points, got ${points.length}`);
  if (points.some(([n, l]) => !(n > 0 && l > 0))) throw new Error('fitPowerLaw: N and L must be positive');
  const minL = Math.min(...points.map(([, l]) => l));
  const logN = points.map(([n]) => Math.log(n));
  let best: PowerLawFit | undefined;
  for (let i = 0; i < grid; i++) {
    const c = (minL * i) / grid; // c < min L, so every L − c > 0
    const { p, q } = line(logN, points.map(([, l]) => Math.log(l - c)));
    const fit = { a: Math.exp(p), alpha: -q, c };
    const sse = points.reduce((s, [n, l]) => s + (l - powerLaw(fit, n)) ** 2, 0);
    if (best === undefined || sse < best.sse) best = { ...fit, sse };
  }
  return best as PowerLawFit;
}
