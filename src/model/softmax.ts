/**
 * Softmax and log-softmax over the last axis, numerically stable.
 *
 *     softmax(x)ᵢ     = exp(xᵢ − m) / Σⱼ exp(xⱼ − m)          m = maxⱼ xⱼ
 *     log_softmax(x)ᵢ = xᵢ − m − log Σⱼ exp(xⱼ − m)
 *
 * ```math
 * \begin{aligned}
 * \operatorname{softmax}(x)_i &= \frac{\exp(x_i - m)}{\sum_j \exp(x_j - m)}, \qquad m = \max_j x_j \\
 * \log \operatorname{softmax}(x)_i &= x_i - m - \log \textstyle\sum_j \exp(x_j - m)
 * \end{aligned}
 * ```
 *
 * Subtracting the row maximum m changes nothing mathematically (it cancels between
 * numerator and denominator) but keeps every exponent ≤ 0, so exp never overflows
 * and the largest term is exactly 1, so the sum is ≥ 1 and its log is finite.
 *
 * Original code (`train.py`): `softmax(x, axis=-1)`:
 * `x = x - tf.reduce_max(x, axis=axis, keep_dims=True); ex = tf.exp(x);
 * return ex/tf.reduce_sum(ex, axis=axis, keep_dims=True)`.
 *
 * @module
 */
import { type Tensor, tensor } from '../tensor.ts';

/** softmax over the last axis of x (any rank ≥ 1). Sums are accumulated in float64. */
export function softmax(x: Tensor): Tensor {
  const C = x.shape[x.shape.length - 1];
  const out = new Float32Array(x.data.length);
  for (let row = 0; row < x.data.length; row += C) {
    let m = -Infinity;
    for (let j = 0; j < C; j++) m = Math.max(m, x.data[row + j]);
    let sum = 0;
    for (let j = 0; j < C; j++) {
      const e = Math.exp(x.data[row + j] - m);
      out[row + j] = e;
      sum += e;
    }
    for (let j = 0; j < C; j++) out[row + j] /= sum;
  }
  return tensor(x.shape, out);
}

/** log_softmax over the last axis of x (any rank ≥ 1). */
export function logSoftmax(x: Tensor): Tensor {
  const C = x.shape[x.shape.length - 1];
  const out = new Float32Array(x.data.length);
  for (let row = 0; row < x.data.length; row += C) {
    let m = -Infinity;
    for (let j = 0; j < C; j++) m = Math.max(m, x.data[row + j]);
    let sum = 0;
    for (let j = 0; j < C; j++) sum += Math.exp(x.data[row + j] - m);
    const logZ = m + Math.log(sum);
    for (let j = 0; j < C; j++) out[row + j] = x.data[row + j] - logZ;
  }
  return tensor(x.shape, out);
}

/**
 * Backward of P = softmax(x) over the last axis, given P and dP = dL/dP.
 *
 * For one row, Pᵢ = e^{xᵢ}/Z with Z = Σₖ e^{xₖ}, so ∂Pᵢ/∂xⱼ = Pᵢ·(δᵢⱼ − Pⱼ) and
 *
 *     dxⱼ = Σᵢ dPᵢ·Pᵢ·(δᵢⱼ − Pⱼ) = Pⱼ·(dPⱼ − Σᵢ dPᵢ·Pᵢ)
 *     dx  = P ⊙ (dP − rowsum(dP ⊙ P))
 *
 * Every row of dx sums to 0 (Σⱼ Pⱼ = 1: adding a constant to a row of x does not
 * change its softmax), and dxⱼ = 0 wherever Pⱼ = 0 (e.g. the masked attention scores).
 *
 * @param probs P, any shape [..., C]
 * @param dProbs dL/dP, same shape
 * @returns dL/dx, same shape
 */
export function softmaxBackward(probs: Tensor, dProbs: Tensor): Tensor {
  const C = probs.shape[probs.shape.length - 1];
  const P = probs.data;
  const dP = dProbs.data;
  const dx = new Float32Array(P.length);
  for (let row = 0; row < P.length; row += C) {
    let dot = 0; // rowsum(dP ⊙ P), accumulated in float64
    for (let j = 0; j < C; j++) dot += dP[row + j] * P[row + j];
    for (let j = 0; j < C; j++) dx[row + j] = P[row + j] * (dP[row + j] - dot);
  }
  return tensor(probs.shape, dx);
}

/**
 * Backward of ℓ = log_softmax(x) over the last axis, given ℓ and dℓ = dL/dℓ.
 *
 * ℓᵢ = xᵢ − log Z, so ∂ℓᵢ/∂xⱼ = δᵢⱼ − Pⱼ with P = softmax(x) = exp(ℓ), and
 *
 *     dxⱼ = dℓⱼ − Pⱼ·Σᵢ dℓᵢ
 *
 * @param logp ℓ, any shape [..., C]
 * @param dLogp dL/dℓ, same shape
 */
export function logSoftmaxBackward(logp: Tensor, dLogp: Tensor): Tensor {
  const C = logp.shape[logp.shape.length - 1];
  const dx = new Float32Array(logp.data.length);
  for (let row = 0; row < dx.length; row += C) {
    let sum = 0; // Σᵢ dℓᵢ
    for (let j = 0; j < C; j++) sum += dLogp.data[row + j];
    for (let j = 0; j < C; j++) dx[row + j] = dLogp.data[row + j] - Math.exp(logp.data[row + j]) * sum;
  }
  return tensor(logp.shape, dx);
}
