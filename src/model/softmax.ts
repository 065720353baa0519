/**
 * Softmax and log-softmax over the last axis, numerically stable.
 *
 *     softmax(x)ᵢ     = exp(xᵢ − m) / Σⱼ exp(xⱼ − m)          m = maxⱼ xⱼ
 *     log_softmax(x)ᵢ = xᵢ − m − log Σⱼ exp(xⱼ − m)
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
