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
 * ```math
 * \mu = \frac{1}{d} \sum_{i=1}^{d} x_i, \qquad
 * \sigma^2 = \frac{1}{d} \sum_{i=1}^{d} (x_i - \mu)^2, \qquad
 * y_i = g_i \, \frac{x_i - \mu}{\sqrt{\sigma^2 + \varepsilon}} + b_i
 * ```
 *
 * Original code (`train.py`): `_norm(x, g, b, e=1e-5, axis=[1])` —
 * `u = tf.reduce_mean(x, axis, keep_dims=True)`,
 * `s = tf.reduce_mean(tf.square(x-u), axis, keep_dims=True)`,
 * `x = (x - u) * tf.rsqrt(s + e)`, `x = x*g + b` — called by `norm(x, scope)`.
 *
 * The backward pass ({@link layerNormBackward}) needs only x̂, 1/√(σ² + ε) and g.
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

/** Gradients of {@link layerNormForward}. */
export interface LayerNormGrads {
  /** dL/dx, [T, d] */
  readonly dx: Tensor;
  /** dL/dg, [d] */
  readonly dg: Tensor;
  /** dL/db, [d] */
  readonly db: Tensor;
}

/**
 * Backward of LayerNorm, given dy = dL/dy and the saved x̂ and rstd = 1/√(σ² + ε).
 *
 * Gain and bias: yᵢ = gᵢ·x̂ᵢ + bᵢ for every row t, so
 *
 *     dg = Σₜ dy ⊙ x̂          db = Σₜ dy          dx̂ = dy ⊙ g
 *
 * Through the normalisation, for one row (write r = rstd, d = row length):
 *
 *     ∂μ/∂xⱼ  = 1/d
 *     ∂σ²/∂xⱼ = (2/d)·(xⱼ − μ)                 (the ∂μ term is (2/d)·Σᵢ(xᵢ − μ)·(−1/d) = 0)
 *     ∂r/∂xⱼ  = −½·r³·∂σ²/∂xⱼ = −r³·(xⱼ − μ)/d
 *     ∂x̂ᵢ/∂xⱼ = r·(δᵢⱼ − 1/d) + (xᵢ − μ)·∂r/∂xⱼ = r·(δᵢⱼ − 1/d − x̂ᵢ·x̂ⱼ/d)
 *
 * and so dxⱼ = Σᵢ dx̂ᵢ·∂x̂ᵢ/∂xⱼ:
 *
 *     dx = r·(dx̂ − mean(dx̂) − x̂·mean(dx̂ ⊙ x̂))
 *
 * Two consequences the tests check: Σⱼ dxⱼ = 0 (because Σⱼ x̂ⱼ = 0: shifting a row does
 * not change its normalisation), and Σⱼ x̂ⱼ·dxⱼ = r·Σ(dx̂⊙x̂)·(1 − Σx̂²/d) with
 * Σx̂²/d = σ²/(σ² + ε), i.e. dx is orthogonal to x̂ up to a relative ε/(σ² + ε)
 * (scaling a row changes its normalisation only through ε).
 *
 * @param ln the forward's saved values (x̂ [T, d], rstd [T])
 * @param g the gain, [d]
 * @param dy [T, d]
 */
export function layerNormBackward(ln: LayerNormOutput, g: Tensor, dy: Tensor): LayerNormGrads {
  const xhat = ln.xhat.data;
  const d = ln.xhat.shape[ln.xhat.shape.length - 1];
  const T = ln.rstd.length;
  const dx = new Float32Array(xhat.length); // [T, d]
  const dg = new Float64Array(d); // [d]
  const db = new Float64Array(d); // [d]
  const dxhat = new Float64Array(d); // one row of dx̂
  for (let t = 0; t < T; t++) {
    const row = t * d;
    let meanDxhat = 0; // mean(dx̂)
    let meanDxhatXhat = 0; // mean(dx̂ ⊙ x̂)
    for (let i = 0; i < d; i++) {
      const dyi = dy.data[row + i];
      dg[i] += dyi * xhat[row + i];
      db[i] += dyi;
      dxhat[i] = dyi * g.data[i];
      meanDxhat += dxhat[i];
      meanDxhatXhat += dxhat[i] * xhat[row + i];
    }
    meanDxhat /= d;
    meanDxhatXhat /= d;
    const r = ln.rstd[t];
    for (let i = 0; i < d; i++) dx[row + i] = r * (dxhat[i] - meanDxhat - xhat[row + i] * meanDxhatXhat);
  }
  return { dx: tensor(ln.xhat.shape, dx), dg: tensor([d], Float32Array.from(dg)), db: tensor([d], Float32Array.from(db)) };
}
