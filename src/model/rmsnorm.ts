/**
 * RMSNorm (Zhang & Sennrich 2019, "Root Mean Square Layer Normalization"), as in
 * LLaMA and Mixtral. A switch (`config.normalization = "rmsnorm"`), not GPT-1:
 * GPT-1 uses LayerNorm (`layernorm.ts`).
 *
 * The paper (§4): "RMSNorm [...] regularizes the summed inputs to a neuron in one
 * layer according to root mean square (RMS), giving the model re-scaling invariance
 * property [...] we drop the mean statistic in LayerNorm".
 *
 * For each row x ∈ ℝ^d (ε = `config.layer_norm_epsilon`, inside the root like GPT-1's):
 *
 *     r  = 1/√(mean(x²) + ε)          [T]       (rstd)
 *     x̂  = x·r                        [T, d]
 *     y  = g ⊙ x̂                      [T, d]    (gain only: no bias, no `ln_*.bias`)
 *
 * So mean(x̂²) = mean(x²)/(mean(x²) + ε) → 1, and y(c·x) = y(x) for c > 0 as ε → 0:
 * the two invariants the tests check.
 *
 * ## Backward
 * dg = Σₜ dy ⊙ x̂, dx̂ = dy ⊙ g. Through the normalisation, for one row:
 *
 *     ∂r/∂xⱼ  = −½·r³·(2xⱼ/d) = −r³·xⱼ/d
 *     ∂x̂ᵢ/∂xⱼ = r·δᵢⱼ + xᵢ·∂r/∂xⱼ = r·(δᵢⱼ − x̂ᵢ·x̂ⱼ/d)
 *
 * so dxⱼ = Σᵢ dx̂ᵢ·∂x̂ᵢ/∂xⱼ:
 *
 *     dx = r·(dx̂ − x̂·mean(dx̂ ⊙ x̂))
 *
 * LayerNorm's formula without the mean(dx̂) term, because there is no mean to subtract.
 *
 * @module
 */
import { type Tensor, tensor } from '../tensor.ts';
import type { LayerNormOutput } from './layernorm.ts';

/**
 * RMSNorm over the last axis of x [T, d] with gain g [d]. Returns the same record as
 * LayerNorm (y, x̂, rstd). The mean square is accumulated in float64 and rounded once.
 */
export function rmsNormForward(x: Tensor, g: Tensor, eps: number): LayerNormOutput {
  const d = x.shape[x.shape.length - 1];
  const T = x.data.length / d;
  const xhat = new Float32Array(x.data.length);
  const y = new Float32Array(x.data.length);
  const rstd = new Float32Array(T);
  for (let t = 0; t < T; t++) {
    const row = t * d;
    let ms = 0;
    for (let i = 0; i < d; i++) ms += x.data[row + i] * x.data[row + i];
    ms /= d; // mean(x²)
    const r = 1 / Math.sqrt(ms + eps);
    rstd[t] = r;
    for (let i = 0; i < d; i++) {
      const n = x.data[row + i] * r;
      xhat[row + i] = n;
      y[row + i] = g.data[i] * n;
    }
  }
  return { y: tensor(x.shape, y), xhat: tensor(x.shape, xhat), rstd };
}

/** Gradients of {@link rmsNormForward}. */
export interface RMSNormGrads {
  /** dL/dx, [T, d] */
  readonly dx: Tensor;
  /** dL/dg, [d] */
  readonly dg: Tensor;
}

/** Backward of RMSNorm given dy [T, d]: dx = r·(dx̂ − x̂·mean(dx̂ ⊙ x̂)), dg = Σₜ dy ⊙ x̂. */
export function rmsNormBackward(fwd: LayerNormOutput, g: Tensor, dy: Tensor): RMSNormGrads {
  const xhat = fwd.xhat.data;
  const d = fwd.xhat.shape[fwd.xhat.shape.length - 1];
  const T = fwd.rstd.length;
  const dx = new Float32Array(xhat.length); // [T, d]
  const dg = new Float64Array(d); // [d]
  const dxhat = new Float64Array(d); // one row of dx̂
  for (let t = 0; t < T; t++) {
    const row = t * d;
    let meanDxhatXhat = 0; // mean(dx̂ ⊙ x̂)
    for (let i = 0; i < d; i++) {
      const dyi = dy.data[row + i];
      dg[i] += dyi * xhat[row + i];
      dxhat[i] = dyi * g.data[i];
      meanDxhatXhat += dxhat[i] * xhat[row + i];
    }
    meanDxhatXhat /= d;
    const r = fwd.rstd[t];
    for (let i = 0; i < d; i++) dx[row + i] = r * (dxhat[i] - xhat[row + i] * meanDxhatXhat);
  }
  return { dx: tensor(fwd.xhat.shape, dx), dg: tensor([d], Float32Array.from(dg)) };
}
