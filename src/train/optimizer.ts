/**
 * Adam with the original's weight-decay fix and global gradient-norm clipping,
 * as the original `opt.py` `adam(...)`, written as a pure function.
 *
 * The paper (§4.1): "We used the Adam optimization scheme with a max learning rate
 * of 2.5e-4 [...]. We also employed a modified version of L2 regularization proposed
 * in [Loshchilov & Hutter], with w = 0.01 on all non bias or gain weights." Fine-tuning
 * (§4.1): "learning rate of 6.25e-5 [...] a linear learning rate decay schedule with
 * warmup over 0.2% of training", and `train.py` clips gradients (`--max_grad_norm 1`).
 *
 * For update number tt = t + 1 (t = updates already made), every parameter p with
 * gradient g (after clipping) and moments m, v:
 *
 *     g   ← g · c / max(‖G‖, c)                 (all gradients together, if c = max_grad_norm > 0)
 *     lrt = lr · √(1 − b2^tt) / (1 − b1^tt) · schedule(t / t_total)
 *     m   ← b1·m + (1 − b1)·g
 *     v   ← b2·v + (1 − b2)·g²
 *     p   ← p − lrt · (m / (√v + e) + l2·p)     if (rank(p) > 1 or vector_l2) and l2 > 0
 *     p   ← p − lrt · (m / (√v + e))            otherwise
 *
 * ```math
 * \begin{aligned}
 * g &\leftarrow g \cdot \frac{c}{\max(\lVert G \rVert, c)} \\
 * \mathit{lrt} &= \mathit{lr} \cdot \frac{\sqrt{1 - b_2^{\,tt}}}{1 - b_1^{\,tt}} \cdot \operatorname{schedule}(t / t_{total}) \\
 * m &\leftarrow b_1 m + (1 - b_1) \, g \\
 * v &\leftarrow b_2 v + (1 - b_2) \, g^2 \\
 * p &\leftarrow p - \mathit{lrt} \left( \frac{m}{\sqrt{v} + e} + l_2 \, p \right)
 * && \text{weights of rank} > 1 \\
 * p &\leftarrow p - \mathit{lrt} \, \frac{m}{\sqrt{v} + e}
 * && \text{biases and gains}
 * \end{aligned}
 * ```
 *
 * Original code (`opt.py`):
 *
 * ```python
 * t = tf.Variable(0, dtype=tf.float32, trainable=False)
 * tt = t+1
 * if max_grad_norm > 0:
 *     grads, _ = tf.clip_by_global_norm(grads, max_grad_norm)
 * for p, g in zip(params, grads):
 *     m = tf.Variable(p*0, ...); v = tf.Variable(p*0, ...)
 *     lrt = lr*tf.sqrt(1-b2**tt)/(1-b1**tt)
 *     lrt *= schedule(t/t_total)
 *     mt = b1*m + (1-b1)*g
 *     vt = b2*v + (1-b2)*g*g
 *     if (len(p.get_shape()) > 1 or vector_l2) and l2 > 0:
 *         pt = p - lrt * (mt / (tf.sqrt(vt) + e) + l2*p)
 *     else:
 *         pt = p - lrt * (mt / (tf.sqrt(vt) + e))
 * ```
 *
 * Note what this means, and what is kept:
 * - the weight-decay term l2·p is decoupled from the moments (it never enters m or v,
 *   the "AdamW" idea) but is scaled by the *full* lrt, bias correction and schedule
 *   included (AdamW as later published scales it by lr·schedule only);
 * - the decay is applied to every parameter of rank > 1: all weight matrices and both
 *   embedding matrices (token and position rows share one matrix `we` in the original),
 *   and the classifier's weight matrix; never to biases or LayerNorm gains, which have
 *   rank 1 (unless `vectorL2`);
 * - the first update uses schedule(0), which is 0 for the three `opt.py` schedules,
 *   so it changes only the moments, not the parameters;
 * - clipping is over the global norm of *all* trainable gradients (the model's and the
 *   classifier head's together), as `tf.clip_by_global_norm`.
 *
 * Arithmetic is done in float64 and every stored value rounded to float32 (TensorFlow
 * computes in float32 throughout; the difference is far below anything training
 * notices, and the results here are the same on every machine).
 *
 * @module
 */
import type { Params } from '../params.ts';
import { type Tensor, showShape, tensor } from '../tensor.ts';
import { DEFAULT_WARMUP, type ScheduleName, scheduleByName } from './schedules.ts';

/** Hyper-parameters of {@link adamStep}; names follow `train.py`'s flags. */
export interface AdamHParams {
  /** Maximal learning rate (`--lr`). */
  readonly lr: number;
  /** Learning-rate schedule (`--lr_schedule`). */
  readonly schedule: ScheduleName;
  /** Warm-up as a fraction of t_total (`--lr_warmup`). */
  readonly warmup: number;
  /** The planned number of updates t_total (`n_updates_total`). */
  readonly tTotal: number;
  readonly b1: number;
  readonly b2: number;
  /** Added to √v in the denominator. */
  readonly e: number;
  /** Weight-decay coefficient w (`--l2`). */
  readonly l2: number;
  /** Also decay rank-1 parameters (biases, gains) (`--vector_l2`). */
  readonly vectorL2: boolean;
  /** Clip the global gradient norm to this value; 0 disables clipping (`--max_grad_norm`); negative values are refused. */
  readonly maxGradNorm: number;
}

/** `train.py`'s defaults (the fine-tuning recipe of the paper); `tTotal` must still be given. */
export const ADAM_DEFAULTS: Omit<AdamHParams, 'tTotal'> = Object.freeze({
  lr: 6.25e-5,
  schedule: 'warmup_linear',
  warmup: DEFAULT_WARMUP,
  b1: 0.9,
  b2: 0.999,
  e: 1e-8,
  l2: 0.01,
  vectorL2: false,
  maxGradNorm: 1,
});

/** Optimizer state: the update count t and the two moment estimates per parameter. */
export interface AdamState {
  /** Updates made so far (the original's `t`). */
  readonly t: number;
  /** First moments, by parameter name (same shapes as the parameters). */
  readonly m: Params;
  /** Second moments, by parameter name. */
  readonly v: Params;
}

/** The state before the first update: t = 0, m = v = 0 (`tf.Variable(p*0)`). */
export function initAdamState(params: Params): AdamState {
  const m: Record<string, Tensor> = {};
  const v: Record<string, Tensor> = {};
  for (const [name, p] of Object.entries(params)) {
    m[name] = tensor(p.shape, new Float32Array(p.data.length));
    v[name] = tensor(p.shape, new Float32Array(p.data.length));
  }
  return Object.freeze({ t: 0, m: Object.freeze(m), v: Object.freeze(v) });
}

/** ‖G‖ = √(Σ over every gradient tensor of Σ g²), accumulated in float64. */
export function globalNorm(grads: Params): number {
  let sum = 0;
  for (const g of Object.values(grads)) {
    for (let i = 0; i < g.data.length; i++) sum += g.data[i] * g.data[i];
  }
  return Math.sqrt(sum);
}

/**
 * `tf.clip_by_global_norm`: every gradient times c / max(‖G‖, c). When ‖G‖ ≤ c the
 * gradients are returned unchanged (the factor is exactly 1).
 * @returns the clipped gradients and the norm before clipping
 */
export function clipByGlobalNorm(grads: Params, maxNorm: number): { grads: Params; norm: number } {
  const norm = globalNorm(grads);
  if (!(maxNorm > 0) || norm <= maxNorm) return { grads, norm };
  const factor = maxNorm / norm;
  const out: Record<string, Tensor> = {};
  for (const [name, g] of Object.entries(grads)) {
    const d = new Float32Array(g.data.length);
    for (let i = 0; i < d.length; i++) d[i] = g.data[i] * factor;
    out[name] = tensor(g.shape, d);
  }
  return { grads: Object.freeze(out), norm };
}

/**
 * lrt for the next update: lr · √(1 − b2^(t+1)) / (1 − b1^(t+1)) · schedule(t / t_total).
 */
export function effectiveLearningRate(t: number, hp: AdamHParams): number {
  const tt = t + 1;
  const correction = Math.sqrt(1 - hp.b2 ** tt) / (1 - hp.b1 ** tt);
  return hp.lr * correction * scheduleByName(hp.schedule)(t / hp.tTotal, hp.warmup);
}

/** Throws a one-line error if a hyper-parameter is out of range. */
export function validateAdamHParams(hp: AdamHParams): void {
  const check = (ok: boolean, what: string): void => {
    if (!ok) throw new Error(`adam: ${what}`);
  };
  check(Number.isFinite(hp.lr) && hp.lr >= 0, `lr must be a finite number ≥ 0, got ${hp.lr}`);
  check(Number.isInteger(hp.tTotal) && hp.tTotal > 0, `tTotal must be a positive integer, got ${hp.tTotal}`);
  check(hp.warmup > 0, `warmup must be > 0, got ${hp.warmup}`);
  check(hp.b1 >= 0 && hp.b1 < 1, `b1 must be in [0, 1), got ${hp.b1}`);
  check(hp.b2 >= 0 && hp.b2 < 1, `b2 must be in [0, 1), got ${hp.b2}`);
  check(hp.e >= 0, `e must be ≥ 0, got ${hp.e}`);
  check(hp.l2 >= 0, `l2 must be ≥ 0, got ${hp.l2}`);
  check(hp.maxGradNorm >= 0, `maxGradNorm must be ≥ 0 (0 disables clipping), got ${hp.maxGradNorm}`);
  scheduleByName(hp.schedule);
}

/** What one update returns. */
export interface AdamStepResult {
  readonly params: Params;
  readonly state: AdamState;
  /** The global gradient norm before clipping. */
  readonly gradNorm: number;
  /** The lrt used for this update (bias correction and schedule included). */
  readonly lr: number;
}

/**
 * One Adam update (see the module comment for the formulas). Pure: returns fresh
 * parameters and state, never writes into its arguments. The update of a parameter,
 * with the original's L2 fix (decay l2·p outside the moments, scaled by the full lrt):
 *
 * ```math
 * \begin{aligned}
 * p &\leftarrow p - \mathit{lrt} \left( \frac{m}{\sqrt{v} + e} + l_2 \, p \right) \\
 * \mathit{lrt} &= \mathit{lr} \cdot \frac{\sqrt{1 - b_2^{\,tt}}}{1 - b_1^{\,tt}} \cdot \operatorname{schedule}(t / t_{total})
 * \end{aligned}
 * ```
 *
 * @param params the parameters before the update (any record of tensors: the model's
 *   and, for fine-tuning, the classifier's)
 * @param grads a gradient for every parameter, same names and shapes
 * @param state moments and update count from {@link initAdamState} or the previous step
 * @throws a one-line error for a missing or misshapen gradient or moment
 */
export function adamStep(params: Params, grads: Params, state: AdamState, hp: AdamHParams): AdamStepResult {
  validateAdamHParams(hp);
  for (const [name, p] of Object.entries(params)) {
    for (const [what, rec] of [['gradient', grads], ['first moment', state.m], ['second moment', state.v]] as const) {
      const x = rec[name];
      if (x === undefined) throw new Error(`adam: no ${what} for parameter ${name}`);
      if (x.data.length !== p.data.length) throw new Error(`adam: the ${what} of ${name} has shape ${showShape(x.shape)}, the parameter ${showShape(p.shape)}`);
    }
  }
  for (const name of Object.keys(grads)) {
    if (params[name] === undefined) throw new Error(`adam: gradient for unknown parameter ${name}`);
  }

  const clipped = clipByGlobalNorm(grads, hp.maxGradNorm);
  const lrt = effectiveLearningRate(state.t, hp);
  const { b1, b2, e, l2 } = hp;
  const newParams: Record<string, Tensor> = {};
  const newM: Record<string, Tensor> = {};
  const newV: Record<string, Tensor> = {};
  for (const [name, p] of Object.entries(params)) {
    const g = clipped.grads[name].data;
    const m = state.m[name].data;
    const v = state.v[name].data;
    const decay = (p.shape.length > 1 || hp.vectorL2) && l2 > 0;
    const pt = new Float32Array(p.data.length);
    const mt = new Float32Array(p.data.length);
    const vt = new Float32Array(p.data.length);
    for (let i = 0; i < pt.length; i++) {
      mt[i] = b1 * m[i] + (1 - b1) * g[i];
      vt[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      // the update reads the stored (float32) moments, as TensorFlow's mt, vt
      const step = mt[i] / (Math.sqrt(vt[i]) + e) + (decay ? l2 * p.data[i] : 0);
      pt[i] = p.data[i] - lrt * step;
    }
    newParams[name] = tensor(p.shape, pt);
    newM[name] = tensor(p.shape, mt);
    newV[name] = tensor(p.shape, vt);
  }
  return {
    params: Object.freeze(newParams),
    state: Object.freeze({ t: state.t + 1, m: Object.freeze(newM), v: Object.freeze(newV) }),
    gradNorm: clipped.norm,
    lr: lrt,
  };
}
