/**
 * Rotary position embedding, RoPE (Su et al. 2021, "RoFormer: Enhanced Transformer
 * with Rotary Position Embedding"), as in LLaMA, Qwen and GPT-NeoX. A switch
 * (`config.position_embedding = "rope"`), not GPT-1: GPT-1 adds a learned row W_p[t]
 * to the input (`embedding.ts`).
 *
 * RoFormer §3.2: "we propose to encode the absolute position with a rotation matrix
 * and meanwhile incorporate the explicit relative position dependency in
 * self-attention formulation". Instead of adding a position vector to x, the query
 * and the key of every head are *rotated* by an angle proportional to their position,
 * so that their dot product depends only on the offset between the two positions.
 *
 * ## Forward (rotate-half convention, HF LLaMA / GPT-NeoX)
 * For one head's vector x ∈ ℝ^{d_h} at absolute position p, with m = d_h/2 pairs
 * (i, i + m) and
 *
 *     inv_freqᵢ = θ^(−2i/d_h)          i = 0 … m−1        (θ = config.rope_theta, 10000)
 *     φᵢ(p)     = p · inv_freqᵢ
 *     yᵢ        = xᵢ·cos φᵢ − x_{i+m}·sin φᵢ
 *     y_{i+m}   = x_{i+m}·cos φᵢ + xᵢ·sin φᵢ
 *
 * i.e. y = R(p)·x with R(p) block-diagonal in the pairs, each block the 2×2 rotation
 * [[cos φ, −sin φ], [sin φ, cos φ]]. HF writes this as `x·cos + rotate_half(x)·sin`
 * with `rotate_half(x) = [−x₂, x₁]`. In attention, q and k of every head
 * ([H, T, d_h], after `split_heads`) are rotated at positions T₀ … T₀+T−1 (T₀ cached
 * positions, whose keys were rotated when they were computed), before the scores.
 * The values are not rotated.
 *
 * ## Why it is relative
 * R(p) is orthogonal and R(p)ᵀ·R(s) = R(s − p) (rotations by angles add), so
 *
 *     (R(p)·q)·(R(s)·k) = qᵀ·R(p)ᵀ·R(s)·k = qᵀ·R(s − p)·k
 *
 * depends on s − p only; |R(p)·x| = |x|; R(0) = I. The tests check these three.
 *
 * ## Backward
 * y = R(p)·x is linear in x, so dx = R(p)ᵀ·dy = R(−p)·dy: the same rotation with
 * the angle negated (sin φ → −sin φ):
 *
 *     dxᵢ     = dyᵢ·cos φᵢ + dy_{i+m}·sin φᵢ
 *     dx_{i+m} = dy_{i+m}·cos φᵢ − dyᵢ·sin φᵢ
 *
 * RoPE has no parameters.
 *
 * @module
 */
import { type Tensor, tensor } from '../tensor.ts';

/** cos φᵢ(p) and sin φᵢ(p) for p = offset … offset+T−1, i < d_h/2, each [T, d_h/2] (float64, rounded once on use). */
export function ropeAngles(T: number, dH: number, offset: number, theta: number): { cos: Float64Array; sin: Float64Array } {
  const m = dH / 2;
  const cos = new Float64Array(T * m);
  const sin = new Float64Array(T * m);
  for (let t = 0; t < T; t++) {
    for (let i = 0; i < m; i++) {
      const phi = (offset + t) * Math.pow(theta, (-2 * i) / dH); // φᵢ(p) = p·θ^(−2i/d_h)
      cos[t * m + i] = Math.cos(phi);
      sin[t * m + i] = Math.sin(phi);
    }
  }
  return { cos, sin };
}

/** R(±p) applied to every head's rows of x [H, T, d_h]; `sign` −1 is the transpose. */
function rotate(x: Tensor, offset: number, theta: number, sign: 1 | -1): Tensor {
  const [H, T, dH] = x.shape;
  if (dH % 2 !== 0) throw new Error(`rope: the head width ${dH} is odd`);
  const m = dH / 2;
  const { cos, sin } = ropeAngles(T, dH, offset, theta);
  const out = new Float32Array(x.data.length); // [H, T, d_h]
  for (let h = 0; h < H; h++) {
    for (let t = 0; t < T; t++) {
      const row = (h * T + t) * dH;
      for (let i = 0; i < m; i++) {
        const c = cos[t * m + i];
        const s = sign * sin[t * m + i];
        const a = x.data[row + i];
        const b = x.data[row + i + m];
        out[row + i] = a * c - b * s; // yᵢ = xᵢ cos φ − x_{i+m} sin φ
        out[row + i + m] = b * c + a * s; // y_{i+m} = x_{i+m} cos φ + xᵢ sin φ
      }
    }
  }
  return tensor(x.shape, out);
}

/**
 * RoPE forward: each head's row t of x [H, T, d_h] rotated to position offset + t.
 * @param offset absolute position of row 0 (the number of cached positions T₀)
 */
export function ropeForward(x: Tensor, offset: number, theta: number): Tensor {
  return rotate(x, offset, theta, 1);
}

/** RoPE backward: dx = R(p)ᵀ·dy, the rotation by −φ, for dy [H, T, d_h]. */
export function ropeBackward(dy: Tensor, offset: number, theta: number): Tensor {
  return rotate(dy, offset, theta, -1);
}
