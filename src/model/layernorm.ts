/**
 * Layer normalisation (Ba et al. 2016), used after every residual connection.
 *
 * For one row x ∈ ℝᵈ of the residual stream, with gain g and bias b:
 *
 *     μ  = (1/d) Σᵢ xᵢ
 *     σ² = (1/d) Σᵢ (xᵢ − μ)²          (biased variance: divide by d, not d − 1)
 *     x̂ᵢ = (xᵢ − μ) / √(σ² + ε)         (ε = 1e-5, inside the square root)
 *     yᵢ = gᵢ·x̂ᵢ + bᵢ
 *
 * Original code (`train.py`): `_norm(x, g, b, e=1e-5, axis=[1])` —
 * `u = tf.reduce_mean(x, axis, keep_dims=True)`,
 * `s = tf.reduce_mean(tf.square(x-u), axis, keep_dims=True)`,
 * `x = (x - u) * tf.rsqrt(s + e)`, `x = x*g + b` — called by `norm(x, scope)`.
 *
 * @module
 */
import { type Tensor, tensor } from '../tensor.ts';

/** What the forward pass computed and the backward pass needs. */
export interface LayerNormOutput {
  /** y = g·x̂ + b, [T, d] */
  readonly y: Tensor;
  /** x̂, the normalised input before gain and bias, [T, d] */
  readonly xhat: Tensor;
  /** 1/√(σ² + ε) per row, [T] */
  readonly rstd: Float32Array;
}

/**
 * LayerNorm over the last axis of x [T, d].
 * The mean and variance are accumulated in float64 and rounded once.
 */
export function layerNormForward(x: Tensor, g: Tensor, b: Tensor, eps: number): LayerNormOutput {
  const d = x.shape[x.shape.length - 1];
  const T = x.data.length / d;
  const xhat = new Float32Array(x.data.length);
  const y = new Float32Array(x.data.length);
  const rstd = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    const row = t * d;
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x.data[row + i];
    mean /= d;
    let variance = 0;
    for (let i = 0; i < d; i++) {
      const c = x.data[row + i] - mean;
      variance += c * c;
    }
    variance /= d;
    const r = 1 / Math.sqrt(variance + eps);
    rstd[t] = r;
    for (let i = 0; i < d; i++) {
      const n = (x.data[row + i] - mean) * r;
      xhat[row + i] = n;
      y[row + i] = g.data[i] * n + b.data[i];
    }
  }
  return { y: tensor(x.shape, y), xhat: tensor(x.shape, xhat), rstd };
}
