/**
 * Learning-rate schedules, exactly as the original `opt.py`.
 *
 * A schedule is a function of the training progress x = t / t_total (t = the number of
 * updates already made, starting at 0; t_total = the planned number of updates) and
 * returns the factor the learning rate is multiplied by. All three rise linearly from
 * 0 to 1 over the first `warmup` fraction of training:
 *
 *     s = (x <= warmup) ? 1 : 0
 *     warmup_cosine(x)   = s·(x/warmup) + (1−s)·½(1 + cos(π·x))
 *     warmup_constant(x) = s·(x/warmup) + (1−s)·1
 *     warmup_linear(x)   = (s·(x/warmup) + (1−s))·(1 − x)
 *
 * ```math
 * \begin{aligned}
 * s &= \begin{cases} 1 & x \le \mathit{warmup} \\ 0 & \text{otherwise} \end{cases} \\
 * \operatorname{warmup\_cosine}(x) &= s \cdot \frac{x}{\mathit{warmup}} + (1 - s) \cdot \tfrac{1}{2} \big(1 + \cos(\pi x)\big) \\
 * \operatorname{warmup\_constant}(x) &= s \cdot \frac{x}{\mathit{warmup}} + (1 - s) \\
 * \operatorname{warmup\_linear}(x) &= \Big(s \cdot \frac{x}{\mathit{warmup}} + (1 - s)\Big) (1 - x)
 * \end{aligned}
 * ```
 *
 * Original code (`opt.py`):
 *
 * ```python
 * def warmup_cosine(x, warmup=0.002):
 *     s = tf.cast(x <= warmup, tf.float32)
 *     return s*(x/warmup) + (1-s)*(0.5 * (1 + tf.cos(math.pi * x)))
 * def warmup_constant(x, warmup=0.002):
 *     s = tf.cast(x <= warmup, tf.float32)
 *     return s*(x/warmup) + (1-s)*1
 * def warmup_linear(x, warmup=0.002):
 *     s = tf.cast(x <= warmup, tf.float32)
 *     return (s*(x/warmup) + (1-s))*(1-x)
 * ```
 *
 * Two properties of the original that are kept on purpose:
 * - the very first update (t = 0, x = 0) has factor 0: the optimizer calls the
 *   schedule with the step count *before* incrementing it (`schedule(t/t_total)`);
 * - the cosine and linear parts are functions of x itself, not of the progress
 *   after the warm-up, so right after the warm-up the factor is ½(1 + cos(π·warmup)),
 *   a hair below 1, and `warmup_linear` is (x/warmup)·(1 − x) during the warm-up.
 *
 * The paper (§4.1) pre-trains with "the learning rate [...] increased linearly from
 * zero over the first 2000 updates and annealed to 0 using a cosine schedule"
 * (`warmup_cosine`) and fine-tunes with "a linear learning rate decay schedule with
 * warmup over 0.2% of training" (`warmup_linear`, warmup 0.002, the `train.py` default).
 *
 * @module
 */

/** The names `train.py` accepts for `--lr_schedule`. */
export type ScheduleName = 'warmup_cosine' | 'warmup_constant' | 'warmup_linear';

/** Every schedule name, in the order of `opt.py`. */
export const SCHEDULE_NAMES: readonly ScheduleName[] = Object.freeze(['warmup_cosine', 'warmup_constant', 'warmup_linear']);

/** A learning-rate factor as a function of progress x = t / t_total and the warm-up fraction. */
export type Schedule = (x: number, warmup: number) => number;

/** The original's default warm-up fraction (`train.py --lr_warmup 0.002`). */
export const DEFAULT_WARMUP = 0.002;

/**
 * s·(x/warmup) + (1−s)·½(1 + cos(π·x)), s = [x ≤ warmup].
 *
 * ```math
 * \operatorname{warmup\_cosine}(x) = s \cdot \frac{x}{\mathit{warmup}} + (1 - s) \cdot \tfrac{1}{2} \big(1 + \cos(\pi x)\big)
 * ```
 */
export function warmupCosine(x: number, warmup = DEFAULT_WARMUP): number {
  const s = x <= warmup ? 1 : 0;
  return s * (x / warmup) + (1 - s) * (0.5 * (1 + Math.cos(Math.PI * x)));
}

/** s·(x/warmup) + (1−s)·1, s = [x ≤ warmup]. */
export function warmupConstant(x: number, warmup = DEFAULT_WARMUP): number {
  const s = x <= warmup ? 1 : 0;
  return s * (x / warmup) + (1 - s) * 1;
}

/**
 * (s·(x/warmup) + (1−s))·(1 − x), s = [x ≤ warmup].
 *
 * ```math
 * \operatorname{warmup\_linear}(x) = \Big(s \cdot \frac{x}{\mathit{warmup}} + (1 - s)\Big) (1 - x)
 * ```
 */
export function warmupLinear(x: number, warmup = DEFAULT_WARMUP): number {
  const s = x <= warmup ? 1 : 0;
  return (s * (x / warmup) + (1 - s)) * (1 - x);
}

/** Name → schedule, as `opt.py`'s `schedules` dict. */
export const SCHEDULES: Readonly<Record<ScheduleName, Schedule>> = Object.freeze({
  warmup_cosine: warmupCosine,
  warmup_constant: warmupConstant,
  warmup_linear: warmupLinear,
});

/**
 * The schedule called `name`.
 * @throws a one-line error for an unknown name.
 */
export function scheduleByName(name: string): Schedule {
  const f = (SCHEDULES as Record<string, Schedule | undefined>)[name];
  if (f === undefined) throw new Error(`unknown learning-rate schedule '${name}': expected one of ${SCHEDULE_NAMES.join(', ')}`);
  return f;
}

/**
 * The learning-rate factor for the update made after `t` earlier updates out of
 * `total`, i.e. `schedule(t/total, warmup)` as `opt.py` evaluates it.
 */
export function scheduleFactor(name: ScheduleName, t: number, total: number, warmup: number): number {
  if (!(total > 0)) throw new Error(`the total number of updates must be positive, got ${total}`);
  if (!(warmup > 0)) throw new Error(`the warm-up fraction must be positive, got ${warmup}`);
  return scheduleByName(name)(t / total, warmup);
}
