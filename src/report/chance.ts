/**
 * When an accuracy is *clearly* above chance: the exact one-sided binomial test.
 *
 * If a model guessed, the number of test items it gets right would be X ~ Binomial(n, p₀)
 * with p₀ the chance level (1/4 for four choices, the majority share for a balanced
 * classification). The p-value of k right answers is
 *
 *     P(X ≥ k) = Σ_{i=k}^{n} C(n, i) · p₀^i · (1 − p₀)^(n−i)
 *
 * and "clearly above chance at level α" means P(X ≥ k) < α. Used by the main job's
 * report (`src/demo/pipeline.ts`) to say which arms beat chance on its test split.
 *
 * @module
 */

/** ln C(n, i) · p^i · (1 − p)^(n−i), the log-probability of exactly i successes. */
function logBinomialTerm(n: number, i: number, p: number, logFactorial: readonly number[]): number {
  const successes = i === 0 ? 0 : i * Math.log(p);
  const failures = i === n ? 0 : (n - i) * Math.log1p(-p);
  return logFactorial[n] - logFactorial[i] - logFactorial[n - i] + successes + failures;
}

/**
 * P(X ≥ k) for X ~ Binomial(n, p): the one-sided p-value of k or more successes in n
 * trials of a guesser that succeeds with probability p. Summed in log space, so it
 * stays exact to double precision for the thousands of items of a test split.
 */
export function binomialUpperTail(n: number, k: number, p: number): number {
  if (!Number.isInteger(n) || n < 0) throw new Error(`binomialUpperTail: n must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(k)) throw new Error(`binomialUpperTail: k must be an integer, got ${k}`);
  if (!(p >= 0 && p <= 1)) throw new Error(`binomialUpperTail: p must be in [0, 1], got ${p}`);
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p === 0) return 0;
  if (p === 1) return 1;
  const logFactorial = [0];
  for (let i = 1; i <= n; i++) logFactorial.push(logFactorial[i - 1] + Math.log(i));
  let total = 0;
  for (let i = k; i <= n; i++) total += Math.exp(logBinomialTerm(n, i, p, logFactorial));
  return Math.min(1, total);
}

/**
 * The fewest successes out of n that are clearly above chance p at level α: the
 * smallest k with P(X ≥ k) < α (n + 1 when not even n successes are).
 *
 * @example aboveChanceThreshold(400, 0.25, 0.001) → 128 (accuracy 0.320 on 400 four-way items)
 */
export function aboveChanceThreshold(n: number, p: number, alpha: number): number {
  if (!(alpha > 0 && alpha < 1)) throw new Error(`aboveChanceThreshold: alpha must be in (0, 1), got ${alpha}`);
  // P(X ≥ k) falls as k grows, so the first k below α is the threshold.
  for (let k = 0; k <= n; k++) if (binomialUpperTail(n, k, p) < alpha) return k;
  return n + 1;
}
